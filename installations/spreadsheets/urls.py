from django.urls import path

from . import views

app_name = "spreadsheets"
urlpatterns = [
    path("export.csv", views.export_csv, name="export"),
    path("import/", views.import_page, name="import"),
    path("import/template.csv", views.import_template, name="template"),
    path("import/commit/", views.import_commit, name="commit"),
]
