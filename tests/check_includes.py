"""Checks the include direction of DESIGN.md: protocol/ includes only itself, the standard
library and Boost.JSON (with what Boost.JSON's results use); transport/ and adapter/ never
include the API layer."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
include = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
errors = []
for header in sorted(root.rglob("*.hpp")):
    layer = header.relative_to(root).parts[0]
    for target in include.findall(header.read_text()):
        where = f"{header.relative_to(root.parent)} includes <{target}>"
        if layer == "protocol":
            ok = (target.startswith("roomcast/protocol/") or "/" not in target
                  or target.startswith("boost/json") or target.startswith("boost/system/"))
            if not ok:
                errors.append(f"{where}: protocol/ is pure (std, Boost.JSON, itself)")
        elif layer in ("transport", "adapter"):
            if target.startswith("roomcast/") and not (
                    target.startswith("roomcast/protocol/") or
                    target.startswith(f"roomcast/{layer}/")):
                errors.append(f"{where}: {layer}/ must not include the API layer")
for e in errors:
    print(e)
print(f"checked {len(list(root.rglob('*.hpp')))} headers: {len(errors)} violations")
sys.exit(1 if errors else 0)
