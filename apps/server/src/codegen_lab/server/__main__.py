"""`python -m codegen_lab.server`: the same as the `codegen-lab` command."""

from codegen_lab.server import main

if __name__ == "__main__":
    main()
