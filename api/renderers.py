"""The API's JSON renderer."""

from rest_framework.renderers import JSONRenderer


class JsonRenderer(JSONRenderer):
    """DRF's JSON renderer (UTF-8, characters as they are), except that an answer holding
    half of a UTF-16 surrogate pair is written with `\\u` escapes instead of failing. JSON's
    grammar lets a client send the escape `"\\ud800"` alone; the fields that store text
    refuse it, but an error that repeats what was sent (an unknown field's name) held it, and
    UTF-8 cannot encode it: the answer was a plain-text 500."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # An instance renders one response (DRF makes one per request).
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
