"""`python -m sweep.run --help` (and the experiment list `python -m analysis.paper --help` shows): the main keys with
their defaults (read from sweep/config.py) and ranges, the override syntax, the experiments with what each reproduces
and its measured time (outputs/gallery/RESULTS.md). Standard library and sweep.config only: fast."""
from __future__ import annotations

from pathlib import Path

from sweep.config import DEFAULT_SPARSITY, Config
from sweep.kinds import KINDS
from sweep.resolvers import RESOLVER_HELP

ROOT = Path(__file__).resolve().parents[1]


def measured_seconds(results: Path = ROOT / "outputs" / "gallery" / "RESULTS.md") -> dict[str, str]:
    """{experiment: 'command_s s (date, machine)'} from the gallery's RESULTS.md table; {} if it is missing."""
    out = {}
    lines = results.read_text().splitlines() if results.exists() else []
    header = next((line for line in lines if line.startswith("| experiment |")), "")
    columns = [c.strip() for c in header.strip("|").split("|")]
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == len(columns) and cells[0] not in ("", "experiment") and not cells[0].startswith("-"):
            row = dict(zip(columns, cells))
            out[row["experiment"]] = f"{float(row['command_s']):,.0f} s ({row['date']}, {row['machine']})"
    return out


def experiments(conf: Path = ROOT / "conf" / "experiment") -> list[str]:
    """One line per conf/experiment/NAME.yaml: its name, what it reproduces (its first comment) and measured time."""
    seconds = measured_seconds()
    lines = []
    for path in sorted(conf.glob("*.yaml")):
        about = next((line.lstrip("# ").strip() for line in path.read_text().splitlines()[1:] if line.startswith("#")), "")
        about = about if len(about) <= 100 else about[:97] + "..."
        lines.append(f"  {path.stem:<20} {about}" + (f" [measured: {seconds[path.stem]}]" if path.stem in seconds else ""))
    return lines


def run_help() -> str:
    c = Config()
    keys = [
        ("sparsity", f"{DEFAULT_SPARSITY} (when density is not given)", "[0, 1); a value or a list"),
        ("density", "null (= 1 - sparsity)", "(0, 1]; give sparsity or density"),
        ("seed", c.seed, "integer >= 0; a value or a list"),
        ("model.n_features / model.n_hidden", f"{c.model.n_features} / {c.model.n_hidden}", "integers >= 1 (n, m)"),
        ("model.kind", c.model.kind, " | ".join(KINDS)),
        ("importance.kind", c.importance.kind, "constant | geometric | list | extra"),
        ("importance.decay", c.importance.decay, ">= 0 (geometric: decay**i); a value or a list"),
        ("optim.lr / optim.weight_decay", f"{c.optim.lr} / {c.optim.weight_decay}", "> 0 / >= 0 (AdamW); values or lists"),
        ("batch_size / steps", f"{c.batch_size} / {c.steps}", "integers >= 1"),
        ("data.distribution", c.data.distribution, "uniform | normal | signed_uniform"),
        ("exec.plots / exec.dry_run", f"{c.exec.plots} / {c.exec.dry_run}", "figures + report.html after a run / print the plan"),
    ]
    width = max(len(k) for k, _, _ in keys)
    return "\n".join([
        "python -m sweep.run [KEY=VALUE ...]      one run: list values (sparsity=[0,0.9] seed=[0,1]) train as one program",
        "python -m sweep.run -m [KEY=A,B ...]     a multirun: Hydra sweeps (a,b  range(0.1,1.01,0.1)  glob(phase_*))",
        "",
        "Main keys (default; allowed). Every key and its range: docs/reference.md (schema: sweep/config.py).",
        *(f"  {k:<{width}}  {d}; {a}" for k, d, a in keys),
        "",
        f"Grids in one value: {RESOLVER_HELP}, e.g. 'sparsity=${{linspace:0,0.99,12}}'",
        "Override syntax: key=value, key=[a,b], +new.key=v, ~key; quote values with $ [ ] ( ) for the shell.",
        "The same command again reuses a complete run or resumes an interrupted one (outputs/runs/<overrides>-<hash>/).",
        "",
        "Experiments (experiment=NAME; python -m analysis.paper NAME also checks the paper's claims):",
        *experiments(),
        "",
        "Hydra's own help: --hydra-help. Docs: README.md, docs/reference.md, docs/multirun.md.",
    ])
