"""Our custom search attributes: one declaration, used by workflows, the CLI and the server
bootstrap, so "list claims in appeal" works the same in the Temporal UI and in `cob list`."""

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("CobStage")
CURRENT_PAYER = SearchAttributeKey.for_keyword("CobCurrentPayer")
PATIENT_BALANCE = SearchAttributeKey.for_float("CobPatientBalance")

ALL = (STAGE, CURRENT_PAYER, PATIENT_BALANCE)
