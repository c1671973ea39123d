"""The architecture: import-linter's layer contracts from pyproject.toml, and a parser that imports no engine."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_linter_contracts_are_kept():
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    done = subprocess.run([lint, "--config", os.path.join(ROOT, "pyproject.toml")], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_help_and_a_bad_flag_import_neither_torch_nor_numba():
    code = ("import sys\nfrom amsgrad_repro import cli\n"
            "for argv in (['online', '--help'], ['sweep', '--help'], ['online', '--steps', '0']):\n"
            "    try:\n        cli.main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('torch', 'numba', 'matplotlib', 'tensorboardX') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "[]", done.stderr
