"""Old Word (.doc) and WPS (.wps) files, converted to .docx by LibreOffice headless."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from policykb.errors import InputFileError

CONVERT_TIMEOUT_S = 120


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(path: Path, out_dir: Path, timeout: float = CONVERT_TIMEOUT_S) -> Path:
    """Convert `path` to `out_dir/<stem>.docx`; InputFileError with one line when it cannot be done."""
    binary = soffice_binary()
    if binary is None:
        raise InputFileError(
            path, f"cannot read {path.suffix} files: LibreOffice (soffice) is not installed; "
            "install libreoffice-writer (make system-deps) or save the file as .docx"
        )
    # A private profile: a LibreOffice already running for the user (or another conversion) would otherwise
    # swallow the request and exit without converting.
    with tempfile.TemporaryDirectory(prefix="policykb-lo-") as profile:
        command = [
            binary, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
            "--convert-to", "docx", "--outdir", str(out_dir), str(path),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise InputFileError(path, f"LibreOffice did not finish converting within {timeout:g} s") from exc
    target = out_dir / f"{path.stem}.docx"
    if done.returncode != 0 or not target.exists():
        detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1][:160] if detail else f"exit code {done.returncode}"
        raise InputFileError(path, f"LibreOffice could not convert this {path.suffix} file ({reason})")
    return target
