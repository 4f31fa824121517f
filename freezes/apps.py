from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FreezesConfig(AppConfig):
    name = "freezes"
    verbose_name = _("Freezes")

    def ready(self) -> None:
        # The ledger calls these inside its postings: rules and sticky freezes freeze arrivals
        # before the receipt commits; frozen units leaving through other documents are recorded
        # on the freeze lines; the stock query links frozen quantities to their freezes.
        from freezes.models import Reason
        from freezes.services import receipts
        from inventory.reasons import register_reasons

        receipts.register()
        # Movement reasons are stored as codes and shown as labels (inventory.reasons).
        register_reasons(
            {
                **dict(Reason.choices),
                "auto_release": _("automatic release"),
                "qc_passed": _("QC passed"),
            }
        )
        # wms: the job sweeper requeues freeze jobs whose worker died.
        from freezes.services import jobs
        from wms.jobs import register_job_kind

        register_job_kind(jobs.job_kind())

        # The scan box opens freeze numbers (FRZ-000004).
        from freezes import scan

        scan.register()

        # The home page of work lists release requests, ageing freezes and near-expiry stock.
        from freezes.work import freezes_work
        from wms.work import register_work_provider

        register_work_provider(freezes_work)
