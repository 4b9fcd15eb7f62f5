"""The investigation's plan: which experiment to run next, and why."""
