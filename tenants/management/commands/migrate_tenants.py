import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.migrations_fleet import UnknownSchema, default_log_dir, fleet_migrate


class Command(BaseCommand):
    help = (
        "Apply the tenant migrations to every tenant schema that misses one, in parallel "
        "worker processes, then to the template and the spare pool. Schemas already "
        "current are skipped (one query finds them), so a run after a failure or an "
        "interrupt resumes where the last one stopped. Plans made only of operations whose "
        "SQL depends on neither the schema nor its data (adding a field, an index, a "
        "constraint) are planned once and their SQL run in each schema. Run after "
        "migrate_schemas --shared."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, help="Worker processes (default: the number of cores)."
        )
        parser.add_argument(
            "--log-dir",
            type=Path,
            help="Folder for one log file per schema (default: .data/migrate_tenants/<time>/).",
        )
        parser.add_argument(
            "--schema", action="append", dest="schemas", help="Only this schema (repeatable)."
        )
        parser.add_argument(
            "--no-fast-path",
            action="store_false",
            dest="fast",
            help="Run Django's migration executor in every schema, even for plans whose SQL "
            "could be planned once and run everywhere.",
        )

    def handle(self, *args, workers=None, log_dir=None, schemas=None, fast=True, **options):
        if workers is not None and workers < 1:
            raise CommandError("--workers must be 1 or more.")
        log_dir = log_dir or default_log_dir()
        self._started = time.perf_counter()
        self._last_line = 0.0
        try:
            result = fleet_migrate(
                workers=workers,
                log_dir=log_dir,
                schema_names=schemas,
                progress=self._progress,
                fast=fast,
            )
        except UnknownSchema as error:
            raise CommandError(f"Not a tenant schema: {', '.join(error.args[0])}.") from error
        if result.template_migrated:
            self.stdout.write("Migrated the template schema in place; spares dropped.")
        elapsed = time.perf_counter() - self._started
        self.stdout.write(
            f"{result.total} tenant schemas: {result.current} current, "
            f"{len(result.migrated)} migrated, {len(result.failed)} failed, "
            f"in {elapsed:.1f} s ({len(result.fast)} with SQL planned once, "
            f"{len(result.migrated) - len(result.fast)} by Django's executor). "
            f"{result.spares_made} spare schema(s) copied. Logs: {log_dir}"
        )
        if result.failed:
            for failure in result.failed:
                self.stderr.write(f"  {failure.schema_name}: {failure.message}")
            raise CommandError(
                f"{len(result.failed)} schema(s) failed (see their logs); fix the cause and run "
                "migrate_tenants again: finished schemas are skipped."
            )

    def _progress(self, done, total, failed):
        now = time.perf_counter()
        # A line at most every second when not on a terminal (CI logs stay short).
        tty = sys.stdout.isatty() if self.stdout._out is sys.stdout else False
        if not tty and done not in (0, total) and now - self._last_line < 1:
            return
        self._last_line = now
        elapsed = now - self._started
        rate = done / elapsed if elapsed else 0.0
        eta = (total - done) / rate if rate else 0.0
        line = f"{done}/{total} schemas migrated ({failed} failed), {rate:.1f}/s, ETA {eta:.0f} s"
        if tty:
            self.stdout.write(f"\r{line}", ending="" if done < total else "\n")
            self.stdout.flush()
        else:
            self.stdout.write(line)
