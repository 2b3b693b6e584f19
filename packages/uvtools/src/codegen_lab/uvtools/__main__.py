"""`codegen-lab-uvtools` and `python -m codegen_lab.uvtools`: the `ws` command on its own."""

from __future__ import annotations

import gc


def main() -> None:
    """Run the command; its modules are imported with the garbage collector off, then frozen.

    Importing click and the command's modules makes thousands of objects that live until exit and form few cycles:
    collecting while they pile up costs about a tenth of the start for nothing (as for `codegen-lab`, whose
    `main` does the same). Frozen, neither later collections nor the one at exit look at them again.
    """
    gc.disable()
    try:
        from codegen_lab.uvtools.cli import cli  # noqa: PLC0415
    finally:
        gc.freeze()
        gc.enable()
    cli(prog_name="codegen-lab-uvtools")


if __name__ == "__main__":
    main()
