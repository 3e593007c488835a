"""The env file `make run` reads, and the run file it writes beside it (scripts/run.sh).

    eval "$(.venv/bin/python scripts/env_file.py)"

The file is the one manage.py reads (config/settings.py): `ENV_FILE` when set, `.env` when
not, none when set empty. `ENV_FILE=dev.env make run` read `.env` and wrote `.env.run` all the
same, while its processes, given ENV_FILE, looked for `dev.env.run`: a `manage.py` command in
another terminal (`ENV_FILE=dev.env`) called the default sandbox port and Redis, not the run's.

Prints shell lines for run.sh:
- `export ENV_FILE=...`: the file, as an absolute path, for every process started from here
  (empty when none);
- `RUN_FILE=...`: where run.sh writes the addresses it gives its processes, `<file>.run`
  (empty when there is no env file: nothing would read it);
- `export NAME=value` for each of the file's variables that the environment leaves unset (the
  environment wins, as in config/settings.py).

A file that does not exist is written first, for local development: DEBUG=1 and random
SECRET_KEY, METRICS_TOKEN and ENCRYPTION_KEYS (a per-checkout secret, so that even a
development instance never runs on a shared key). Those values are never printed but as the
exports run.sh evaluates. Paths are relative to the working directory (run.sh's: the
checkout).
"""

from __future__ import annotations

import base64
import os
import secrets
import shlex
import sys
from pathlib import Path

from honcho.environ import parse


def env_file_path(environ: dict[str, str]) -> Path | None:
    """The env file the settings read in this environment, or None."""
    name = environ.get("ENV_FILE", ".env")
    return Path(name).absolute() if name else None


def env_file_write_development(path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    lines = [
        "# Written by 'make run' for local development. See .env.example for every variable.",
        "DEBUG=1",
        f"SECRET_KEY={secrets.token_urlsafe(50)}",
        f"METRICS_TOKEN={secrets.token_urlsafe(24)}",
        f"ENCRYPTION_KEYS=k1:{key}",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def shell_lines(environ: dict[str, str]) -> list[str]:
    path = env_file_path(environ)
    if path is None:
        return ["export ENV_FILE=''", "RUN_FILE=''"]
    if not path.exists():
        env_file_write_development(path)
    lines = [
        f"export ENV_FILE={shlex.quote(str(path))}",
        f"RUN_FILE={shlex.quote(f'{path}.run')}",
    ]
    # honcho's parser, as `.env` files were always read here: quotes and comments as it has them.
    for name, value in parse(path.read_text()).items():
        if name not in environ:
            lines.append(f"export {name}={shlex.quote(value)}")
    return lines


def main() -> int:
    print("\n".join(shell_lines(dict(os.environ))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
