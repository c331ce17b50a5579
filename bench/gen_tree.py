"""Generate a Lambda-like source tree for the packaging benchmark.

Like a node_modules or site-packages directory: many small text files
(source, JSON, docs) in nested packages, plus some larger binaries (native
modules, data files) that compress less well. Seeded, so every run and every
machine gets the same tree.

usage: python3 gen_tree.py DIR [FILES] [MEGABYTES]
"""

import os
import random
import sys

WORDS = (
    "function return const let var import export default module require async await "
    "class extends this new null undefined true false if else for while switch case "
    "break continue try catch finally throw typeof instanceof object string number "
    "lambda rollout handler event context request response error value key index"
).split()


def text(rng: random.Random, size: int) -> bytes:
    out = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        line = "  " * rng.randint(0, 4) + line + ";\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()[:size]


def binary(rng: random.Random, size: int) -> bytes:
    # Half random, half repetitive: roughly how native modules compress.
    noise = rng.randbytes(size // 2)
    pattern = bytes(range(256)) * (size // 512 + 1)
    return noise + pattern[: size - len(noise)]


def main() -> None:
    root = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    megabytes = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rng = random.Random(20261122)
    binaries = max(1, files // 200)
    text_files = files - binaries
    text_budget = megabytes * 1024 * 1024 * 2 // 5
    binary_budget = megabytes * 1024 * 1024 - text_budget
    for i in range(text_files):
        package = f"node_modules/pkg{i % 400:03d}/lib/sub{i % 7}"
        os.makedirs(os.path.join(root, package), exist_ok=True)
        ext = rng.choice([".js", ".js", ".js", ".json", ".md", ".d.ts"])
        size = max(64, int(rng.expovariate(1 / (text_budget / text_files))))
        with open(os.path.join(root, package, f"file{i}{ext}"), "wb") as f:
            f.write(text(rng, size))
    for i in range(binaries):
        os.makedirs(os.path.join(root, "native"), exist_ok=True)
        with open(os.path.join(root, "native", f"module{i}.node"), "wb") as f:
            f.write(binary(rng, binary_budget // binaries))
    with open(os.path.join(root, "index.js"), "w") as f:
        f.write("exports.handler = async () => ({ statusCode: 200 });\n")


if __name__ == "__main__":
    main()
