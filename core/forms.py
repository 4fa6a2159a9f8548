from django.forms.renderers import TemplatesSetting


class SiteFormRenderer(TemplatesSetting):
    """Renders form fields with templates/forms/field.html, so every form spaces alike."""

    field_template_name = "forms/field.html"
