"""The server's one typed configuration, checked once when it is made."""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from ..engine.errors import InvalidTypeError, InvalidValueError

__all__ = ["Settings", "TOKEN_ENV", "is_loopback"]

TOKEN_ENV = "XLPLAN_TOKEN"


def is_loopback(host):
    """True for 127.0.0.0/8, ::1 and "localhost"; a name or 0.0.0.0 is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    """Where to listen, who may call, and how much one request may ask for.

    Parameters
    ----------
    host, port : str, int
        Listening address; only a loopback host may run without ``token``.
    token : str or None
        Access token every request must carry (``Authorization: Bearer <token>`` or
        ``?token=<token>`` for the URLs Office itself loads).
    certfile, keyfile : str or None
        PEM certificate (and key) for HTTPS; Office loads add-ins only over HTTPS.
    public_url : str or None
        Base URL written into the manifest; default: the URL the manifest was fetched from.
    max_body_bytes : int
        Largest request body accepted (413 beyond).
    max_cells : int
        Largest range one argument may carry.
    max_batch : int
        Most calls in one batch request.
    slow_timeout : float
        Seconds one slow call (FIT_COEFFS) may take before it is stopped.
    slow_workers : int
        Worker processes for slow calls, so they never hold up the cheap ones.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    public_url: str | None = None
    max_body_bytes: int = 8_000_000
    max_cells: int = 100_000
    max_batch: int = 10_000
    slow_timeout: float = 60.0
    slow_workers: int = 1

    def __post_init__(self):
        if self.token is not None and len(self.token) < 8:
            raise InvalidValueError("the access token must have at least 8 characters",
                                    argument="token")
        if not is_loopback(self.host) and not self.token:
            raise InvalidValueError(
                f"refusing to listen on {self.host}, which other machines can reach, without "
                f"an access token: pass --token or set {TOKEN_ENV} (or use --host 127.0.0.1)",
                argument="host", value=self.host)
        if not 0 <= self.port <= 65535:
            raise InvalidValueError(f"port={self.port} must be in [0, 65535]",
                                    argument="port", value=self.port)
        if self.keyfile and not self.certfile:
            raise InvalidTypeError("--keyfile needs --certfile", argument="keyfile")
        for name in ("certfile", "keyfile"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise InvalidValueError(f"{name} '{path}' is not a file", argument=name,
                                        value=path)
        for name in ("max_body_bytes", "max_cells", "max_batch", "slow_timeout",
                     "slow_workers"):
            if not getattr(self, name) > 0:
                raise InvalidValueError(f"{name}={getattr(self, name)} must be > 0",
                                        argument=name)

    @classmethod
    def from_environment(cls, **values):
        """Settings from keyword values, the token falling back to ``$XLPLAN_TOKEN``."""
        if not values.get("token"):
            values["token"] = os.environ.get(TOKEN_ENV) or None
        return cls(**values)

    @property
    def scheme(self):
        return "https" if self.certfile else "http"
