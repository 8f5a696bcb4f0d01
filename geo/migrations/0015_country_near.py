# The country of a point as a mission records it: near a border (within a tolerance), the
# mission's host country wins whenever it is one of the candidates (geo/core/borders.py).
from django.db import migrations

from geo.core.borders import COUNTRY_NEAR_FUNCTION, DROP_COUNTRY_NEAR_FUNCTION


class Migration(migrations.Migration):
    dependencies = [("geo", "0014_analysisrun_attempt_started_at_and_more")]

    operations = [migrations.RunSQL(COUNTRY_NEAR_FUNCTION, DROP_COUNTRY_NEAR_FUNCTION)]
