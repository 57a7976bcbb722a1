"""Settings declared as data: every name, its default and its help in one place.

`config/default.toml` documents the same settings for people; a test keeps the two in step.
Values are read, in order, from these defaults, then the TOML file named by
`CROSSINGS_CONFIG` (if any), then `CROSSINGS_<NAME>` environment variables.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("archive_name", "Crossings archive", "The archive's name, as bags, PBCore records, harvesters and "
            "the about page give it (bag-info.txt's Source-Organization)."),
    Setting("base_url", "", "The archive's public address, e.g. https://archive.example.org, from which "
            "exports, feeds and citations make absolute links. Empty: links are given from the site root "
            "(/items/3), and the about page says no address is set."),
    Setting("contact_email", "", "Address the about page and exported packages give for questions about the "
            "archive (bag-info.txt's Contact-Email). Empty: none is given."),
    Setting("pid_naan", "", "Name Assigning Authority Number under which items get ARK identifiers "
            "(ark:/NAAN/...), five or more digits or consonants. Empty: items get urn:uuid identifiers. "
            "Existing items keep the identifiers they have: a persistent identifier never changes."),
    Setting("pid_shoulder", "", "Optional ARK shoulder put before each new item's random part, e.g. x5 "
            "(digits and consonants but l); needs pid_naan."),
    Setting("data", "media", "Data root: database, stored originals, derivatives and search index. "
            "A relative path is taken from the current directory."),
    Setting("store_backend", "local", "Where originals, derivatives and access copies are kept: local (under "
            "the data root) or s3 (an S3-compatible object store, s3_*; credentials from the environment "
            "variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never from this file). With s3 the data "
            "root still holds tmp/, the local work folder ffmpeg reads and writes in."),
    Setting("s3_endpoint_url", "", "URL of the S3-compatible server, e.g. https://s3.example.org. Empty: AWS's "
            "own endpoint for s3_region."),
    Setting("s3_bucket", "", "Bucket the store's objects are kept in (it must exist)."),
    Setting("s3_prefix", "", "Key prefix inside the bucket, for several archives in one bucket. Empty: none."),
    Setting("s3_region", "us-east-1", "Region the requests are signed for."),
    Setting("s3_public_redirect_seconds", 0, "With store_backend s3: a public item's files are answered with a "
            "redirect (302) to a presigned URL of the bucket that expires after this many seconds (at most "
            "900), so the bytes do not pass through the app. 0: every file streams through the app. Files of "
            "restricted and confidential items always stream through the app, so that an access change, "
            "their no-store header and a logged view take effect at once."),
    Setting("store_intent_lease_seconds", 3600.0, "How long, in seconds, a file entering the store stays its "
            "ingest's before the store's recovery (at the start of every ingest, verify and worker, on any "
            "node) takes the ingest for dead and removes the file if its record never arrived. Longer than "
            "placing one file and committing its record can take."),
    Setting("database_url", "", "SQLAlchemy URL of the catalogue database. Empty: a SQLite file "
            "crossings.sqlite3 in the data root."),
    Setting("secret_key", "", "Key that signs session cookies. Empty: a random key kept in the "
            "database, made on first start, so every web node over one database shares it (a data root's "
            "secret_key file from an older version is taken over, so its logins stay valid)."),
    Setting("default_access", "restricted", "Access level given to items added from now on (ingest, "
            "upload, the demo) when none is asked for: public, restricted or confidential. Restricted: "
            "footage of people in flight is seen by accounts only until an archivist publishes it."),
    Setting("default_location_precision", "km10", "Precision at which the GPS position of items added "
            "from now on is published to viewers who may not see it exactly, when none is asked for: exact, "
            "km10 (about 10 km), region or country. Anything but exact also keeps the original (which may "
            "carry the position in its metadata) from those viewers."),
    Setting("ingest_workers", 2, "Parallel ffmpeg/Pillow workers during ingest (this machine has 2 cores)."),
    Setting("ffprobe_timeout", 30.0, "Seconds one ffprobe call may take before it is stopped."),
    Setting("ffmpeg_timeout", 120.0, "Seconds one thumbnail or waveform ffmpeg call may take."),
    Setting("proxy_timeout", 3600.0, "Seconds one proxy encode may take."),
    Setting("exiftool_batch", 16, "Files read by one exiftool call during ingest (location and capture time "
            "from XMP, QuickTime, GPS tracks and the other carriers ffprobe and Pillow do not read)."),
    Setting("exiftool_timeout", 120.0, "Seconds one exiftool call (one batch of files) may take; when it fails "
            "the files are ingested with a warning and without what only exiftool finds."),
    Setting("max_image_pixels", 120_000_000, "Largest still, in pixels, that is decoded; larger "
            "ones are refused as possible decompression bombs."),
    Setting("thumb_grid_width", 320, "Width in pixels of grid thumbnails."),
    Setting("thumb_page_width", 960, "Width in pixels of item-page posters and stills."),
    Setting("storyboard_frames", 10, "Evenly spaced frames in a video's storyboard strip."),
    Setting("storyboard_frame_width", 160, "Width in pixels of one storyboard frame."),
    Setting("thumb_format", "webp", "Image format of thumbnails and storyboards: webp or jpeg."),
    Setting("proxy_max_height", 720, "Largest height of web proxies made for footage a browser cannot play."),
    Setting("proxy_crf", 23, "x264 constant rate factor of web proxies (lower is better and bigger)."),
    Setting("proxy_preset", "veryfast", "x264 preset of web proxies."),
    Setting("offer_access_copy_downloads", False, "true: viewers who may not have an item's original (it is "
            "published coarser than exact, and they are not editors) may download a full-quality access copy "
            "instead: stills re-encoded from their pixels, audio and video with only their audio and video "
            "streams, without metadata. The worker makes one per such item, nearly doubling the store for "
            "them. false: they only play the web proxy and see the thumbnails; nothing is offered to download."),
    Setting("per_page", 24, "Items per page in the browse grid and the API when none is asked for."),
    Setting("max_per_page", 100, "Largest page size the browse grid and the API give; larger requests are clamped."),
    Setting("oai_page_size", 100, "Records (or headers) per page of an OAI-PMH list at /oai; a longer list "
            "ends its page with a resumption token for the next."),
    Setting("oai_token_lifetime_hours", 24.0, "Hours an OAI-PMH resumption token can be used for (its "
            "expirationDate). Tokens are signed with the secret key, not stored: they work across restarts "
            "and on every web node, and are refused once expired or changed."),
    Setting("login_max_failures", 5, "Failed logins allowed for one username from one network address "
            "within login_window_seconds before further tries of that pair are refused until the window has "
            "passed (other addresses, the owner's among them, are not locked out)."),
    Setting("login_max_failures_per_address", 20, "Failed logins allowed from one network address within "
            "login_window_seconds."),
    Setting("login_window_seconds", 900, "The window, in seconds, over which failed logins are counted."),
    Setting("session_cookie_secure", False, "Send the session cookie over HTTPS only (set true behind TLS)."),
    Setting("session_idle_minutes", 120, "A login ends after this many minutes without a request."),
    Setting("session_lifetime_hours", 24, "A login ends this many hours after it began, however busy."),
    Setting("max_upload_bytes", 10 * 1024**3, "Largest request the web app accepts, in bytes: the sum of "
            "the files of one browser upload. Larger ones are refused (413) before anything is stored."),
    Setting("defer_thumbnails", False, "true: crossings ingest records each file without its thumbnails, "
            "posters, storyboards and waveforms and queues a job for the worker (crossings worker) to make "
            "them, so a large batch is catalogued sooner (more than twice as fast for 12-megapixel JPEGs); "
            "until then items show their kind in grids. crossings ingest --defer-thumbnails or "
            "--thumbnails-now decides for one run. Browser uploads always make them at once."),
    Setting("web_workers", 0, "Processes of the web server (crossings serve). 0: one per core, at least 2 "
            "and at most 8 (the worker's ffmpeg needs the cores too; threads cover requests that wait)."),
    Setting("web_threads", 4, "Requests one web server process handles at once, each in a thread."),
    Setting("worker_threads", 2, "Jobs one worker runs at once (this machine has 2 cores; a proxy encode "
            "already uses several)."),
    Setting("worker_poll_seconds", 2.0, "How often an idle worker looks for queued jobs, in seconds."),
    Setting("job_lease_seconds", 300.0, "How long a running job stays its worker's, in seconds, without word "
            "from it. The worker renews the lease every quarter of this while the job runs; a worker killed "
            "or cut off loses it, and then another worker (on any machine) runs the job again."),
    Setting("job_max_attempts", 3, "Attempts a job gets: a failed attempt before the last is queued again "
            "after a wait (job_retry_seconds, doubled after each failure), keeping its reason; after the "
            "last it stays failed until `crossings jobs retry`."),
    Setting("job_retry_seconds", 60.0, "Seconds a job waits after its first failed attempt before it is tried "
            "again; the wait doubles after each further failure."),
    Setting("fixity_days", 30, "Every stored original is re-hashed within this many days: each night a worker "
            "checks the least recently checked 1/fixity_days of them (crossings verify --report and "
            "/admin/fixity show what failed). 0: no nightly check."),
    Setting("fixity_hour", 2, "Hour of the day (0-23, UTC) from which the nightly fixity check is due; the "
            "first worker to look after it runs that night's check, the others do not."),
    Setting("map_tile_url", "", "Optional tile server URL template drawn under the maps, e.g. "
            "https://tile.example.org/{z}/{x}/{y}.png. Empty: the maps draw only the built-in country "
            "outlines and need no internet. When set, its server is added to the pages' "
            "Content-Security-Policy img-src."),
    Setting("place_suggest_radius_km", 25.0, "How far, in kilometres, a place may lie from an item's GPS "
            "position to be suggested as where it was shot."),
    Setting("catalogue_language", "en", "BCP 47 tag of the language titles, descriptions and tags are "
            "written in: search stems their words with its Snowball stemmer (transcripts are stemmed in "
            "their own language). A language without a stemmer (zh, ko, th...) stems nothing. Changing it "
            "rebuilds the search index."),
    Setting("search_engine", "whoosh", "The engine behind full-text search (archive.search.SearchEngine). "
            "whoosh: an index in files under the data root (index/), nothing else to run. postgresql: tables in "
            "the catalogue database (needs a PostgreSQL database_url), updated in the same transaction as the "
            "catalogue, so every machine sees a change at once: the choice for several machines."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    """A setting has a value of the wrong kind; the message names the setting and its source."""


def _coerce(setting: Setting, raw: Any, source: str) -> Any:
    kind = type(setting.default)
    if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
        return raw
    if kind is int and isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        try:
            if kind is int:
                return int(raw)
            if kind is float:
                return float(raw)
            if kind is bool:
                return raw.strip().lower() in {"1", "true", "yes", "on"}
        except ValueError:
            pass
    raise SettingsError(f"{source}: setting {setting.name!r} wants a {kind.__name__}, got {raw!r}")


#: Settings that were renamed: an older configuration's name is read as the new one.
RENAMED = {"job_stale_seconds": "job_lease_seconds"}


def load_settings(overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return every setting's value: defaults, then the config file, then the environment, then overrides."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    config_file = environ.get("CROSSINGS_CONFIG")
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{path}: cannot read the configuration file: {exc}") from exc
        for name, raw in data.items():
            name = RENAMED.get(name, name)
            if name not in _BY_NAME:
                raise SettingsError(f"{path}: unknown setting {name!r}")
            values[name] = _coerce(_BY_NAME[name], raw, str(path))
    for old, new in RENAMED.items():
        if f"CROSSINGS_{old.upper()}" in environ and f"CROSSINGS_{new.upper()}" not in environ:
            values[new] = _coerce(_BY_NAME[new], environ[f"CROSSINGS_{old.upper()}"], f"CROSSINGS_{old.upper()}")
    for setting in SETTINGS:
        env_name = f"CROSSINGS_{setting.name.upper()}"
        if env_name in environ:
            values[setting.name] = _coerce(setting, environ[env_name], env_name)
    for name, raw in (overrides or {}).items():
        name = RENAMED.get(name, name)
        if name not in _BY_NAME:
            raise SettingsError(f"overrides: unknown setting {name!r}")
        values[name] = _coerce(_BY_NAME[name], raw, "overrides")
    return values
