STEP_DECORATORS_DESC = [("audited", ".audit.AuditDecorator")]
FLOW_DECORATORS_DESC = [("acme_team", ".team.TeamDecorator")]

__mf_promote_submodules__ = ["greeting", "frameworks"]
