"""Step 1: build the training corpus from permissively licensed code on this machine.

Sources (both reproducible from a fresh Debian 12 + npm machine):
  * the Python standard library shipped by Debian (/usr/lib/python3.11, PSF licence);
  * TypeScript/JavaScript/JSON/Markdown from a fixed, pinned list of npm packages installed into
    work/npm by this script (`npm install --ignore-scripts`), keeping only packages whose own
    package.json licence is MIT, ISC, BSD-* or Apache-2.0.
Minified/generated files are skipped, contents are deduplicated by SHA-256, about 2% of files
(chosen by content hash, so deterministic) are held out for evaluation.

Writes work/corpus/{train,eval}.jsonl and work/corpus/manifest.json.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")

NPM_PACKAGES = [
    "typescript@5.9.3",
    "@types/node@20.19.43",
    "@types/vscode@1.100.0",
    "lodash@4.18.1",
    "markdown-it@15.0.3",
    "@huggingface/jinja@0.5.11",
    "@vscode/vsce@3.7.1",
    "@vscode/test-electron@2.5.2",
]
PY_ROOT = "/usr/lib/python3.11"
PERMISSIVE = {"MIT", "ISC", "BSD-2-CLAUSE", "BSD-3-CLAUSE", "BSD", "0BSD", "APACHE-2.0", "PSF-2.0"}
NPM_EXT = (".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json", ".md")
MAX_FILE_BYTES = 256 * 1024
MAX_LINE = 400           # longer lines mean minified or generated text
MAX_MEAN_LINE = 100
HOLDOUT_PERCENT = 2


def licence_of(pkg_json):
    lic = pkg_json.get("license") or pkg_json.get("licenses")
    if isinstance(lic, list) and lic:
        lic = lic[0]
    if isinstance(lic, dict):
        lic = lic.get("type")
    return str(lic or "UNKNOWN").strip()


def is_permissive(lic):
    # "(MIT OR Apache-2.0)" style expressions: permissive if every alternative is, or any OR branch is.
    expr = lic.upper().replace("(", " ").replace(")", " ")
    if " AND " in expr:
        return all(p.strip() in PERMISSIVE for p in expr.split(" AND "))
    return any(p.strip() in PERMISSIVE for p in expr.split(" OR "))


def looks_generated(text, path):
    name = os.path.basename(path)
    if ".min." in name or name.endswith(".map") or name in ("package-lock.json", "yarn.lock"):
        return True
    lines = text.split("\n")
    if not lines:
        return True
    if max(len(l) for l in lines) > MAX_LINE:
        return True
    if len(text) / len(lines) > MAX_MEAN_LINE:
        return True
    if "sourceMappingURL=data:" in text:
        return True
    return False


def read_text(path):
    try:
        size = os.path.getsize(path)
        if size == 0 or size > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "\x00" in text:
        return None
    return text.replace("\r\n", "\n")


def install_npm(npm_dir):
    if os.path.isdir(os.path.join(npm_dir, "node_modules")):
        return
    os.makedirs(npm_dir, exist_ok=True)
    with open(os.path.join(npm_dir, "package.json"), "w") as f:
        json.dump({"name": "tokenscope-mini-corpus", "private": True}, f)
    cmd = ["npm", "install", "--prefix", npm_dir, "--ignore-scripts", "--no-audit", "--no-fund",
           "--prefer-offline", "--no-package-lock", *NPM_PACKAGES]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def npm_packages(npm_dir):
    """Yield (package dir, package.json) for every installed package, scoped ones included."""
    root = os.path.join(npm_dir, "node_modules")
    for name in sorted(os.listdir(root)):
        if name.startswith("."):
            continue
        dirs = [os.path.join(root, name)]
        if name.startswith("@"):
            dirs = [os.path.join(root, name, s) for s in sorted(os.listdir(os.path.join(root, name)))]
        for d in dirs:
            pj = os.path.join(d, "package.json")
            if os.path.isfile(pj):
                with open(pj) as f:
                    yield d, json.load(f)


def walk(root, exts, skip_dirs=()):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
        for fn in sorted(filenames):
            if fn.endswith(exts):
                yield os.path.join(dirpath, fn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(WORK, "corpus"))
    ap.add_argument("--max-mb-python", type=float, default=22)
    ap.add_argument("--max-mb-npm", type=float, default=22)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    if os.path.exists(os.path.join(args.out, "manifest.json")) and not args.force:
        print("corpus: exists, skipping (--force to rebuild)")
        return
    os.makedirs(args.out, exist_ok=True)
    npm_dir = os.path.join(WORK, "npm")
    install_npm(npm_dir)

    seen = set()
    sources = []
    records = {"train": [], "eval": []}
    stats = {"skipped_generated": 0, "skipped_duplicate": 0, "skipped_unreadable": 0}

    def add(path, rel, source, cap_bytes, counter):
        text = read_text(path)
        if text is None:
            stats["skipped_unreadable"] += 1
            return
        if looks_generated(text, path):
            stats["skipped_generated"] += 1
            return
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest in seen:
            stats["skipped_duplicate"] += 1
            return
        nbytes = len(text.encode("utf-8"))
        if counter["bytes"] + nbytes > cap_bytes:
            counter["capped"] += 1
            return
        seen.add(digest)
        split = "eval" if int(digest[:8], 16) % 100 < HOLDOUT_PERCENT else "train"
        records[split].append({"path": rel, "source": source, "sha256": digest, "text": text})
        counter["bytes"] += nbytes
        counter["files"] += 1
        counter[split + "_files"] += 1
        counter[split + "_bytes"] += nbytes

    def counter():
        return {"files": 0, "bytes": 0, "train_files": 0, "train_bytes": 0, "eval_files": 0,
                "eval_bytes": 0, "capped": 0}

    # Python standard library (PSF-2.0). site/dist-packages hold third-party code: excluded.
    c = counter()
    for p in walk(PY_ROOT, (".py",), skip_dirs=("site-packages", "dist-packages", "__pycache__")):
        add(p, "python3.11/" + os.path.relpath(p, PY_ROOT), "cpython-stdlib", args.max_mb_python * 1e6, c)
    sources.append({"name": "Python 3.11 standard library (Debian python3.11)", "root": PY_ROOT,
                    "licence": "PSF-2.0", **c})

    # npm packages: only permissive licences, each package recorded in the manifest.
    npm_cap = args.max_mb_npm * 1e6
    npm_total = counter()
    pkgs = []
    rejected = []
    for d, pj in npm_packages(npm_dir):
        lic = licence_of(pj)
        name = f"{pj.get('name')}@{pj.get('version')}"
        if not is_permissive(lic):
            rejected.append({"package": name, "licence": lic})
            continue
        before = dict(npm_total)
        for p in walk(d, NPM_EXT, skip_dirs=("node_modules", "test", "tests", "__tests__", "dist-min")):
            add(p, "npm/" + pj.get("name", "?") + "/" + os.path.relpath(p, d), "npm", npm_cap, npm_total)
        files = npm_total["files"] - before["files"]
        if files:
            pkgs.append({"package": name, "licence": lic, "files": files,
                         "bytes": npm_total["bytes"] - before["bytes"]})
    sources.append({"name": "npm packages (pinned list and their dependencies)", "install": NPM_PACKAGES,
                    "licences": sorted({p["licence"] for p in pkgs}), **npm_total,
                    "packages": pkgs, "rejected_packages": rejected})

    for split, recs in records.items():
        with open(os.path.join(args.out, split + ".jsonl"), "w") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")
    manifest = {
        "sources": sources,
        "filters": {"max_file_bytes": MAX_FILE_BYTES, "max_line_chars": MAX_LINE,
                    "max_mean_line_chars": MAX_MEAN_LINE, "dedup": "sha256 of file content",
                    "holdout": f"int(sha256[:8],16) % 100 < {HOLDOUT_PERCENT}", **stats},
        "train": {"files": len(records["train"]), "bytes": sum(len(r["text"].encode()) for r in records["train"])},
        "eval": {"files": len(records["eval"]), "bytes": sum(len(r["text"].encode()) for r in records["eval"])},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({k: manifest[k] for k in ("train", "eval")}), json.dumps(stats))


if __name__ == "__main__":
    sys.exit(main())
