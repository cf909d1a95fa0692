"""Rolling revisions out without downtime: ``changes`` classifies what each upgrade does
(in the check worker, over the statements already parsed), ``plan`` turns a check's result
into the runbook (``migsafe runbook``), ``roundtrip_report`` reads a roundtrip's verdicts for
the rollback paths."""
