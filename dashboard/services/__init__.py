"""What the pages and jobs do, without Flask requests: sending orders to houses, following
tracking, house and carrier accounts, pull-house reports, order entry. Services never
import a blueprint or ``jobs``."""
