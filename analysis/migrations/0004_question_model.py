"""Design and model apart: a question's ``estimator`` (auto | twfe | ppml) becomes its ``model``
(auto | linear | lpm | ppml); "twfe" was the linear model. The design lives in the plan (a plan
frozen with ``estimator: twfe`` keeps the calendar design until it is revised)."""

from django.db import migrations, models

LEGACY = {"auto": "auto", "twfe": "linear", "ppml": "ppml"}


def forwards(apps, schema_editor):
    StudyQuestion = apps.get_model("analysis", "StudyQuestion")
    for q in StudyQuestion.objects.all():
        q.model = LEGACY.get(q.estimator, "auto")
        q.save(update_fields=["model"])


def backwards(apps, schema_editor):
    StudyQuestion = apps.get_model("analysis", "StudyQuestion")
    back = {"auto": "auto", "linear": "twfe", "lpm": "twfe", "ppml": "ppml"}
    for q in StudyQuestion.objects.all():
        q.estimator = back.get(q.model, "auto")
        q.save(update_fields=["estimator"])


class Migration(migrations.Migration):
    dependencies = [("analysis", "0003_run_heartbeat")]

    operations = [
        migrations.AddField(
            model_name="studyquestion",
            name="model",
            field=models.CharField(
                choices=[
                    ("auto", "by outcome type (linear; LPM for binary; Poisson PML for counts, costs)"),
                    ("linear", "linear"),
                    ("lpm", "linear probability model (binary outcomes, percentage points)"),
                    ("ppml", "Poisson PML (counts and costs, relative change)"),
                ],
                default="auto",
                max_length=10,
                verbose_name="model",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="studyquestion", name="estimator"),
    ]
