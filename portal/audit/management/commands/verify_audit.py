from django.core.management.base import BaseCommand, CommandError

from portal.audit.chain import verify_chain


class Command(BaseCommand):
    help = (
        "Check the sealed audit records against their hash chain and the signed checkpoints; "
        "name every record that was deleted, rewritten or slipped in, and report the backlog."
    )

    def handle(self, *args, **options):
        verdict = verify_chain()
        summary = (
            f"{verdict.checked} sealed records checked against {verdict.checkpoints} "
            f"checkpoints; {verdict.unsealed} waiting for the sealer."
        )
        if not verdict.ok:
            for problem in verdict.problems[1:]:
                self.stderr.write(f"Also broken at {problem}")
            raise CommandError(
                f"Audit chain broken at {verdict.problems[0]} "
                f"({len(verdict.problems)} problems in all). {summary}"
            )
        self.stdout.write(f"Audit chain intact: {summary}")
