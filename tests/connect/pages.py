"""Reading the connect pages the way a browser does: forms, their inputs, and what they say."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ParsedForm:
    action: str
    inputs: dict[str, dict] = field(default_factory=dict)  # name -> attributes
    selects: dict[str, dict] = field(default_factory=dict)

    @property
    def slot(self) -> str:
        return self.inputs["slot"]["value"]

    def data(self, **values) -> dict:
        """What submitting the form sends, with `values` typed into its (prefixed) fields."""
        data = {
            name: attrs.get("value", "")
            for name, attrs in self.inputs.items()
            if attrs.get("type") == "hidden"
        }
        for name, value in values.items():
            data[f"{self.slot}-{name}"] = value
        return data


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[ParsedForm] = []
        self._current: ParsedForm | None = None
        self.ids: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attributes = {k: (v if v is not None else "") for k, v in attrs}
        if "id" in attributes:
            self.ids[attributes["id"]] = {"tag": tag, **attributes}
        if tag == "form":
            self._current = ParsedForm(action=attributes.get("action", ""))
            self.forms.append(self._current)
        elif self._current and tag == "input" and "name" in attributes:
            self._current.inputs[attributes["name"]] = attributes
        elif self._current and tag == "select" and "name" in attributes:
            self._current.selects[attributes["name"]] = attributes

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


def forms_by_slot(html: str) -> dict[str, ParsedForm]:
    return {form.slot: form for form in parse(html).forms if "slot" in form.inputs}


class ConnectPages:
    """GET a link's page, then submit one slot's form like a browser would."""

    def __init__(self, client):
        self.client = client

    def open(self, path: str):
        response = self.client.get(path)
        assert response.status_code == 200, response.status_code
        return response

    def submit(self, path: str, slot: str, *, headers=None, **values):
        page = self.open(path)
        form = forms_by_slot(page.content.decode())[slot]
        return self.client.post(form.action, form.data(**values), headers=headers or {})
