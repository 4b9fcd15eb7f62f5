from tracehound.cli import main

main()
