import sys

try:
    from tracehound.cli import main
except KeyboardInterrupt:  # Ctrl-C while the CLI is still being imported: nothing has started
    sys.stderr.write("tracehound: interrupted\n")
    sys.exit(130)

main()
