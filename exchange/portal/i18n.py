"""Portal strings in English, Spanish and Portuguese; the language comes from ?lang=, a cookie or the browser."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "es", "pt")
STRINGS: dict[str, dict[str, str]] = {
    "board": {"en": "Live alerts", "es": "Alertas en directo", "pt": "Alertas em direto"},
    "publish": {"en": "Publish alert", "es": "Publicar alerta", "pt": "Publicar alerta"},
    "library": {"en": "Library", "es": "Biblioteca", "pt": "Biblioteca"},
    "dashboard": {"en": "Dashboard", "es": "Panel", "pt": "Painel"},
    "compliance": {"en": "Compliance", "es": "Cumplimiento", "pt": "Conformidade"},
    "account": {"en": "My account", "es": "Mi cuenta", "pt": "A minha conta"},
    "skip": {"en": "Skip to content", "es": "Saltar al contenido", "pt": "Saltar para o conteúdo"},
    "live": {"en": "Live", "es": "En directo", "pt": "Em direto"},
    "reconnecting": {"en": "Reconnecting…", "es": "Reconectando…", "pt": "A religar…"},
    "session_ended": {"en": "Session ended: log in again", "es": "Sesión terminada: vuelva a entrar",
                      "pt": "Sessão terminada: entre de novo"},
    "new_alert": {"en": "New alert", "es": "Nueva alerta", "pt": "Novo alerta"},
    "no_alerts": {"en": "No alerts for your organisation yet.", "es": "Aún no hay alertas para su organización.",
                  "pt": "Ainda não há alertas para a sua organização."},
    "severity": {"en": "Severity", "es": "Gravedad", "pt": "Gravidade"},
    "high": {"en": "High", "es": "Alta", "pt": "Alta"},
    "medium": {"en": "Medium", "es": "Media", "pt": "Média"},
    "low": {"en": "Low", "es": "Baja", "pt": "Baixa"},
    "category": {"en": "Category", "es": "Categoría", "pt": "Categoria"},
    "where": {"en": "Where", "es": "Dónde", "pt": "Onde"},
    "when": {"en": "When", "es": "Cuándo", "pt": "Quando"},
    "guidance": {"en": "Guidance", "es": "Instrucciones", "pt": "Orientações"},
    "evidence": {"en": "Evidence (redacted)", "es": "Evidencia (anonimizada)", "pt": "Evidência (anonimizada)"},
    "held": {"en": "kept by the sensor operator", "es": "custodiada por el operador del sensor",
             "pt": "guardada pelo operador do sensor"},
    "promote": {"en": "Promote a detection", "es": "Convertir una detección en alerta",
                "pt": "Promover uma deteção a alerta"},
    "status": {"en": "Status", "es": "Estado", "pt": "Estado"},
    "new": {"en": "New", "es": "Nueva", "pt": "Novo"},
    "acknowledged": {"en": "Acknowledge", "es": "Recibido", "pt": "Recebido"},
    "on-scene": {"en": "On scene", "es": "En el lugar", "pt": "No local"},
    "resolved": {"en": "Resolved", "es": "Resuelto", "pt": "Resolvido"},
    "note": {"en": "Note", "es": "Nota", "pt": "Nota"},
    "feedback_sent": {"en": "Sent to the producer", "es": "Enviado al emisor", "pt": "Enviado ao emissor"},
    "map": {"en": "Venue map", "es": "Mapa del recinto", "pt": "Mapa do recinto"},
    "title": {"en": "Title", "es": "Título", "pt": "Título"},
    "description": {"en": "Description", "es": "Descripción", "pt": "Descrição"},
    "categories": {"en": "Categories (comma separated)", "es": "Categorías (separadas por comas)",
                   "pt": "Categorias (separadas por vírgulas)"},
    "criticality": {"en": "Criticality (0–100)", "es": "Criticidad (0–100)", "pt": "Criticidade (0–100)"},
    "venue": {"en": "Venue", "es": "Recinto", "pt": "Recinto"},
    "zone": {"en": "Zone", "es": "Zona", "pt": "Zona"},
    "municipality": {"en": "Municipality", "es": "Municipio", "pt": "Município"},
    "tlp": {"en": "TLP", "es": "TLP", "pt": "TLP"},
    "recipients": {"en": "Also send to", "es": "Enviar también a", "pt": "Enviar também a"},
    "widened": {"en": "Widen to areas (comma separated)", "es": "Ampliar a zonas (separadas por comas)",
                "pt": "Alargar a áreas (separadas por vírgulas)"},
    "guidance_title": {"en": "Guidance title", "es": "Título de las instrucciones", "pt": "Título das orientações"},
    "guidance_text": {"en": "What agents should do, where to direct the crowd",
                      "es": "Qué deben hacer los agentes, hacia dónde dirigir al público",
                      "pt": "O que os agentes devem fazer, para onde encaminhar o público"},
    "collection": {"en": "Collection", "es": "Colección", "pt": "Coleção"},
    "preview": {"en": "Preview audience", "es": "Ver destinatarios", "pt": "Ver destinatários"},
    "send": {"en": "Publish", "es": "Publicar", "pt": "Publicar"},
    "all_roles": {"en": "every role", "es": "todos los perfiles", "pt": "todos os perfis"},
    "audience": {"en": "Will be received by", "es": "La recibirán", "pt": "Será recebido por"},
    "nobody": {"en": "Nobody outside the policy's defaults", "es": "Nadie", "pt": "Ninguém"},
    "published": {"en": "Published", "es": "Publicada", "pt": "Publicado"},
    "search": {"en": "Search", "es": "Buscar", "pt": "Pesquisar"},
    "no_results": {"en": "Nothing found.", "es": "Sin resultados.", "pt": "Sem resultados."},
    "alerts_by_day": {"en": "Alerts per day by category", "es": "Alertas por día y categoría",
                      "pt": "Alertas por dia e categoria"},
    "detections_by_day": {"en": "Detections per day by category", "es": "Detecciones por día y categoría",
                          "pt": "Deteções por dia e categoria"},
    "topic": {"en": "Topic", "es": "Tema", "pt": "Tema"},
    "alerts_by_zone": {"en": "Alerts by zone", "es": "Alertas por zona", "pt": "Alertas por zona"},
    "total": {"en": "Total", "es": "Total", "pt": "Total"},
    "who_can_see": {"en": "Who can see an object", "es": "Quién puede ver un objeto",
                    "pt": "Quem pode ver um objeto"},
    "object_id": {"en": "Object id", "es": "Id del objeto", "pt": "Id do objeto"},
    "explain": {"en": "Explain for organisation", "es": "Explicar para la organización",
                "pt": "Explicar para a organização"},
    "audit_search": {"en": "Audit log", "es": "Registro de auditoría", "pt": "Registo de auditoria"},
    "since": {"en": "Since", "es": "Desde", "pt": "Desde"},
    "export": {"en": "Export (JSON lines)", "es": "Exportar (JSON lines)", "pt": "Exportar (JSON lines)"},
    "run": {"en": "Show", "es": "Mostrar", "pt": "Mostrar"},
    "language": {"en": "Language", "es": "Idioma", "pt": "Idioma"},
    "logout": {"en": "Log out", "es": "Salir", "pt": "Sair"},
}


def pick_language(query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    """The first supported language of: ?lang=, the cookie, Accept-Language, the hub's default."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default


def translator(lang: str) -> Callable[[str], str]:
    """A function key → text in `lang` (English, then the key itself, when missing)."""
    def t(key: str) -> str:
        entry = STRINGS.get(key)
        return entry.get(lang) or entry["en"] if entry else key
    return t
