"""Start the action server: `python -m actions`."""

from actions.server import main

if __name__ == "__main__":
    main()
