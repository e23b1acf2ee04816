"""`sync-errors doctor`: checks the integration setup and says what to fix."""

from bot.doctor.result import CHECK_TITLES, CheckResult, format_checks_json
from bot.doctor.run import CHECKS, run_doctor

__all__ = ["CHECKS", "CHECK_TITLES", "CheckResult", "format_checks_json", "run_doctor"]
