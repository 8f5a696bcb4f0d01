# Why a point looks implausible for its mission: 0, 0, swapped, outside its area or host
# countries (geo/core/borders.py).
from django.db import migrations

from geo.core.borders import DROP_LOCATION_DOUBT_FUNCTION, LOCATION_DOUBT_FUNCTION


class Migration(migrations.Migration):
    dependencies = [("geo", "0015_country_near")]

    operations = [migrations.RunSQL(LOCATION_DOUBT_FUNCTION, DROP_LOCATION_DOUBT_FUNCTION)]
