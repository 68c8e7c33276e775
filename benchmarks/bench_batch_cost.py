"""Batch versus live cost of judging the MAST human-labelled file, offline (a dry run: no call, no network).

    python benchmarks/bench_batch_cost.py [--mast PATH] [--model openai/gpt-4o-mini]

Runs the command line as a user does: `init`, `import` the MAST file into a temporary database, then
`judge run --model MODEL --dry-run`, whose estimates come from litellm's model map (input/output cost per
token, live and `_batches`). Prints the dry run's lines and the batch/live ratio. Writes nothing outside a
temporary directory.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAST = Path("/work/shared/datasets/mast/MAD_human_labelled_dataset.json")


def annotator(db: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "annotator", "--db", str(db), *args], check=True,
                          capture_output=True, text=True, cwd=db.parent).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mast", type=Path, default=MAST)
    parser.add_argument("--model", default="openai/gpt-4o-mini")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        annotator(db, "init")
        annotator(db, "import", str(args.mast.resolve()))
        began = time.perf_counter()
        out = annotator(db, "judge", "run", "--model", args.model, "--dry-run")
        seconds = time.perf_counter() - began
    print(out.rstrip())
    live = re.search(r"estimated cost: \$([0-9.,]+)", out)
    batch = re.search(r"batch prices \(--batch\): \$([0-9.,]+)", out)
    if live and batch:
        ratio = float(batch.group(1).replace(",", "")) / float(live.group(1).replace(",", ""))
        print(f"batch/live: {ratio:.3f}")
    print(f"dry run: {seconds:.1f} s wall (process start and litellm import included)")


if __name__ == "__main__":
    main()
