"""Each ```cpp block of a Markdown file marked `<!-- sample: PATH -->` on the line before it
must be the text of PATH (a file the build compiles), so documentation never shows code
that does not build."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
errors, checked = [], 0
for doc in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
    text = doc.read_text()
    for m in re.finditer(r"<!-- sample: (\S+) -->\n```cpp\n(.*?)```", text, re.S):
        checked += 1
        source = (root / m.group(1)).read_text()
        if m.group(2).strip() != source.strip():
            errors.append(f"{doc.relative_to(root)}: the sample differs from {m.group(1)}")
for e in errors:
    print(e)
print(f"{checked} samples checked, {len(errors)} differ")
sys.exit(1 if errors or checked == 0 else 0)
