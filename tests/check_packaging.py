"""Checks that the version and the package descriptions agree: project(VERSION) in
CMakeLists.txt, the macros of include/roomcast/version.hpp, conanfile.py, the vcpkg port and
CHANGELOG.md; that both Conan recipes parse; that the vcpkg port depends on every Boost
library the headers include; and that the Redis and TLS options and features bring hiredis
and OpenSSL."""
import ast
import json
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
errors = []


def read(rel):
    return (root / rel).read_text(encoding="utf-8")


m = re.search(r"project\(\s*roomcast\s+VERSION\s+(\d+)\.(\d+)\.(\d+)", read("CMakeLists.txt"))
if not m:
    sys.exit("CMakeLists.txt: no project(roomcast VERSION x.y.z)")
major, minor, patch = (int(g) for g in m.groups())
version = f"{major}.{minor}.{patch}"

header = read("include/roomcast/version.hpp")
number = re.search(r"#define ROOMCAST_VERSION (\d+)", header)
string = re.search(r'#define ROOMCAST_VERSION_STRING "([^"]*)"', header)
if not number or int(number.group(1)) != major * 10000 + minor * 100 + patch:
    errors.append(f"version.hpp: ROOMCAST_VERSION is not {major * 10000 + minor * 100 + patch}")
if not string or string.group(1) != version:
    errors.append(f'version.hpp: ROOMCAST_VERSION_STRING is not "{version}"')


def recipe_attributes(rel):
    """The string attributes of the recipe's class, which must parse as Python."""
    try:
        tree = ast.parse(read(rel), rel)
    except SyntaxError as e:
        errors.append(f"{rel}: {e}")
        return {}
    found = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = stmt.value.value
    return found


conan = recipe_attributes("conanfile.py")
recipe_attributes("test_package/conanfile.py")
for key, want in (("name", "roomcast"), ("version", version), ("license", "BSL-1.0"),
                  ("package_type", "header-library")):
    if conan.get(key) != want:
        errors.append(f"conanfile.py: {key} is {conan.get(key)!r}, not {want!r}")

try:
    port = json.loads(read("ports/roomcast/vcpkg.json"))
except ValueError as e:
    sys.exit(f"ports/roomcast/vcpkg.json: {e}")
for key, want in (("name", "roomcast"), ("version", version), ("license", "BSL-1.0")):
    if port.get(key) != want:
        errors.append(f"ports/roomcast/vcpkg.json: {key} is {port.get(key)!r}, not {want!r}")


def names(dependencies):
    """The port names of a vcpkg.json dependency list (strings or objects)."""
    return {d if isinstance(d, str) else d["name"] for d in dependencies}


depends = names(port.get("dependencies", []))
include = re.compile(r'^\s*#\s*include\s*<boost/(\w+)[/.]', re.M)
libraries = set()
for f in sorted((root / "include").rglob("*")):
    if f.suffix in (".hpp", ".ipp"):
        libraries.update(include.findall(f.read_text(encoding="utf-8")))
for lib in sorted(libraries):
    if "boost-" + lib.replace("_", "-") not in depends:
        errors.append(f"ports/roomcast/vcpkg.json: the headers include Boost.{lib}, "
                      f"but boost-{lib.replace('_', '-')} is not a dependency")
# The optional parts: vcpkg feature and Conan option, and the library each brings.
for feature, library in (("redis", "hiredis"), ("tls", "openssl")):
    described = port.get("features", {}).get(feature)
    if described is None:
        errors.append(f"ports/roomcast/vcpkg.json: no {feature} feature")
    elif library not in names(described.get("dependencies", [])):
        errors.append(f"ports/roomcast/vcpkg.json: the {feature} feature does not depend on "
                      f"{library}")
    if not re.search(rf'self\.requires\(\s*"{library}/', read("conanfile.py")):
        errors.append(f"conanfile.py: with_{feature} does not require {library}")

if not re.search(rf"^## \[{re.escape(version)}\]", read("CHANGELOG.md"), re.M):
    errors.append(f"CHANGELOG.md: no section ## [{version}]")
if not read("LICENSE").startswith("Boost Software License - Version 1.0"):
    errors.append("LICENSE is not the Boost Software License 1.0 the packages declare")

for e in errors:
    print(e)
print(f"version {version}; Boost libraries the headers include: {', '.join(sorted(libraries))}; "
      f"{len(errors)} disagreements")
sys.exit(1 if errors else 0)
