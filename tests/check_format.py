"""Fails if any C++ file of the tree differs from what clang-format makes of it."""
import pathlib
import subprocess
import sys

clang_format, root = sys.argv[1], pathlib.Path(sys.argv[2])
dirs = ["include", "examples", "tests", "bench", "test_package"]
files = [str(p) for d in dirs for p in sorted((root / d).rglob("*"))
         if p.suffix in (".hpp", ".ipp", ".cpp", ".h") and "node_modules" not in p.parts]
result = subprocess.run([clang_format, "--dry-run", "--Werror", *files],
                        capture_output=True, text=True)
sys.stdout.write(result.stderr[:20000])
print(f"checked {len(files)} files with {clang_format}")
sys.exit(result.returncode)
