"""Run each atheris harness in turn for a share of SECONDS and report what was found.

    python fuzz/run.py --seconds 600

Seeds: the shared corpus's messages; fuzz/mail.dict gives libFuzzer the tokens of mail (header
names, MIME parameters, encoded-word markers, codec names) to splice in. Crashes land in
fuzz/crashes/<target>/; the run exits non-zero if there is any.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parents[1] / "shared" / "corpus"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--targets", default="decide,mime,data")
    args = parser.parse_args()
    targets = args.targets.split(",")
    share = max(10, args.seconds // len(targets))
    found = 0
    for target in targets:
        crashes = HERE / "crashes" / target
        crashes.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as corpus:
            for seed in sorted(SEEDS.glob("*.eml")):
                shutil.copy(seed, corpus)
            command = [
                sys.executable, str(HERE / "harnesses.py"), target,
                f"-max_total_time={share}", "-rss_limit_mb=4096", "-timeout=10",
                f"-artifact_prefix={crashes}/", "-print_final_stats=1",
                f"-dict={HERE / 'mail.dict'}", corpus,
            ]  # fmt: skip
            print(f"fuzz {target}: {share} s", flush=True)
            result = subprocess.run(command, check=False)
        artifacts = sorted(crashes.iterdir())
        found += len(artifacts)
        print(f"fuzz {target}: exit {result.returncode}, {len(artifacts)} artifacts in {crashes}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
