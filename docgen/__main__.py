"""`python -m docgen --out docs/generated [--check-json build/check.json] [--skip a,b]`.

Runs every generator module's `write(out_dir, **kwargs)`: `docgen.tables` (benchmark and
cross-backend agreement tables), `docgen.gallery` (plots of every loss) and
`docgen.migration` (tables for users of other libraries). Each module is imported only when
it runs, so a missing or broken generator names itself; `--skip` leaves generators out.
"""

import argparse
import importlib
import pathlib
import sys
import time

# name -> keyword arguments it takes from the command line (besides out_dir).
GENERATORS = {
    "tables": ("check_json",),
    "gallery": (),
    "migration": (),
}


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m docgen", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=pathlib.Path, help="output folder")
    parser.add_argument(
        "--check-json",
        type=pathlib.Path,
        default=None,
        help="JSON written by `kloss check --json`, for the agreement table",
    )
    parser.add_argument(
        "--skip",
        default="",
        help=f"comma-separated generators to leave out, among: {', '.join(GENERATORS)}",
    )
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(GENERATORS)
    if unknown:
        parser.error(
            f"--skip: unknown generator(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(GENERATORS)}"
        )
    if args.check_json is not None and not args.check_json.is_file():
        parser.error(f"--check-json: no such file: {args.check_json}")
    return args, skip


def main(argv=None):
    args, skip = _parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    options = {"check_json": args.check_json}
    for name, takes in GENERATORS.items():
        if name in skip:
            print(f"docgen: {name}: skipped")
            continue
        try:
            module = importlib.import_module(f"docgen.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"docgen.{name}":
                raise  # the generator exists but one of its imports does not
            sys.exit(
                f"docgen: generator module docgen/{name}.py is missing "
                f"(pass --skip {name} to build without its pages)"
            )
        start = time.perf_counter()
        paths = module.write(args.out, **{k: options[k] for k in takes})
        seconds = time.perf_counter() - start
        for path in paths:
            print(f"docgen: {name}: wrote {path}")
        print(f"docgen: {name}: {len(paths)} file(s) in {seconds:.1f} s")


if __name__ == "__main__":
    main()
