// The Python side of the worker's preflight beyond versions: reads the installed trainer's parser (build_parser(),
// else its --help) into a flag set, and the machine (OS, chip, memory). Printed as MLXQ-FLAGS / MLXQ-ENV JSON lines.

export const INTROSPECT_PY = String.raw`
import argparse, json, os, platform, re, subprocess, sys

def option_of(a):
    flags = [f for f in a.option_strings if f.startswith("--")] or list(a.option_strings)
    kind = type(a).__name__
    action = {"_StoreTrueAction": "store_true", "_StoreFalseAction": "store_false", "_StoreAction": "store", "_AppendAction": "append"}.get(kind, kind)
    t = getattr(a.type, "__name__", None) if a.type is not None else None
    d = a.default
    try:
        json.dumps(d)
    except TypeError:
        d = repr(d)
    return {"flag": flags[0], "dest": a.dest, "action": action, "type": t,
            "choices": [str(c) for c in a.choices] if a.choices is not None else None, "default": d}

def from_parser(p):
    return [option_of(a) for a in p._actions if a.option_strings and a.dest != "help"]

HELP_OPTION = re.compile(r"^  (?:-\w(?: \S+)?, )?(--[\w-]+)(?:[ =](\{[^}]*\}|\S+))?")

def from_help():
    r = subprocess.run([sys.executable, "-m", "mlx_lm_lora.train", "--help"], capture_output=True, text=True, timeout=120)
    out = []
    for line in r.stdout.splitlines():
        m = HELP_OPTION.match(line)
        if m is None or m.group(1) == "--help":
            continue
        metavar = m.group(2)
        choices = metavar[1:-1].split(",") if metavar and metavar.startswith("{") else None
        out.append({"flag": m.group(1), "dest": m.group(1)[2:].replace("-", "_"),
                    "action": "store" if metavar else "store_true", "type": None, "choices": choices, "default": None})
    return out

def flag_set(train, version):
    bp = getattr(train, "build_parser", None)
    if callable(bp):
        return {"version": version, "source": "build_parser", "options": from_parser(bp())}
    return {"version": version, "source": "help", "options": from_help()}

def environment():
    chip = None
    if sys.platform == "darwin":
        try:
            chip = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=10).stdout.strip() or None
        except Exception:
            chip = None
        os_name = "macOS " + platform.mac_ver()[0]
    else:
        os_name = platform.platform()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return {"os": os_name, "chip": chip or platform.processor() or platform.machine() or None, "memoryBytes": memory}
`;
