"""The demo community's people, places and words: Spanish first (Spain and Latin America,
informal), with a few English-speaking members."""

from dataclasses import dataclass
from datetime import time

# Every demo account lives on this domain: it is how the demo recognises its own rows and
# leaves everyone else's alone. `.example` is reserved (RFC 2606): no mail reaches anyone.
DEMO_DOMAIN = "demo.example"
STAFF_EMAIL = f"staff@{DEMO_DOMAIN}"
STAFF_PASSWORD = "staff-demo-2026"
MEMBER_EMAIL = f"member@{DEMO_DOMAIN}"
MEMBER_PASSWORD = "member-demo-2026"
MEMBER_COUNT = 60


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    city: str
    country: str
    time_zone: str
    headline: str
    bio: str
    language: str = "es"


STAFF = Person(
    "Marta",
    "Ruiz",
    "Madrid",
    "ES",
    "Europe/Madrid",
    "Community manager de la comunidad",
    "Cuido de la comunidad: sesiones, cafés por parejas y la newsletter. Si tienes una idea "
    "o algo no va bien, escríbeme o búscame en la cafetería.",
)
# The member whose login the console prints: a Spanish-speaking freelancer in Madrid.
MEMBER = Person(
    "Lucía",
    "García",
    "Madrid",
    "ES",
    "Europe/Madrid",
    "Diseño UX freelance",
    "Dejé la agencia hace tres años y ahora trabajo con estudios pequeños a los dos lados "
    "del Atlántico. Me pierde un buen café y hablar de tipografía.",
)

# English-speaking members (their language is English): expats and remote workers in the
# community's time zones. They take these places among the members (every seventh).
ENGLISH_EVERY = 7
ENGLISH_MEMBERS = [
    Person(
        "Emma",
        "Walsh",
        "Barcelona",
        "ES",
        "Europe/Madrid",
        "Product designer for SaaS teams",
        "Irish, living in Barcelona for five years. My Spanish gets better with every coffee "
        "break, so feel free to switch languages with me.",
        "en",
    ),
    Person(
        "Jake",
        "Miller",
        "Ciudad de México",
        "MX",
        "America/Mexico_City",
        "Full-stack developer (Rails and React)",
        "Moved to Mexico City from Austin and never looked back. Happy to trade English "
        "practice for tips on the best tacos al pastor.",
        "en",
    ),
    Person(
        "Oliver",
        "Bennett",
        "London",
        "GB",
        "Europe/London",
        "Technical writer",
        "I write documentation that developers actually read. Looking for people to share "
        "the quiet European afternoons with.",
        "en",
    ),
    Person(
        "Hannah",
        "Price",
        "Madrid",
        "ES",
        "Europe/Madrid",
        "English teacher and conversation coach",
        "I run English conversation groups and I am always looking for a language exchange "
        "partner. Intercambio, anyone?",
        "en",
    ),
    Person(
        "Ryan",
        "O'Connor",
        "Medellín",
        "CO",
        "America/Bogota",
        "Growth marketer for remote startups",
        "Digital nomad turned Medellín local. Always up for a focus session and a chat about "
        "experiments that worked (and the many that did not).",
        "en",
    ),
    Person(
        "Grace",
        "Kim",
        "Buenos Aires",
        "AR",
        "America/Argentina/Buenos_Aires",
        "UX researcher",
        "I interview people for a living, so expect questions. Learning Spanish one «che» at a "
        "time.",
        "en",
    ),
    Person(
        "Sam",
        "Patel",
        "Lisboa",
        "PT",
        "Europe/Lisbon",
        "Data engineer",
        "Pipelines by day, pastel de nata by afternoon. Keen to meet people across time zones.",
        "en",
    ),
    Person(
        "Chloe",
        "Martin",
        "Valencia",
        "ES",
        "Europe/Madrid",
        "Brand strategist",
        "Canadian in Valencia. I help small brands find their voice, in English or (slowly) "
        "in Spanish.",
        "en",
    ),
]

# (city, ISO country, IANA zone): the founding community runs from UTC-6 to UTC+1.
PLACES = [
    ("Madrid", "ES", "Europe/Madrid"),
    ("Buenos Aires", "AR", "America/Argentina/Buenos_Aires"),
    ("Ciudad de México", "MX", "America/Mexico_City"),
    ("Barcelona", "ES", "Europe/Madrid"),
    ("Bogotá", "CO", "America/Bogota"),
    ("Santiago", "CL", "America/Santiago"),
    ("Valencia", "ES", "Europe/Madrid"),
    ("Lima", "PE", "America/Lima"),
    ("Sevilla", "ES", "Europe/Madrid"),
    ("Montevideo", "UY", "America/Montevideo"),
    ("Guadalajara", "MX", "America/Mexico_City"),
    ("Bilbao", "ES", "Europe/Madrid"),
    ("Medellín", "CO", "America/Bogota"),
    ("Quito", "EC", "America/Guayaquil"),
    ("Las Palmas", "ES", "Atlantic/Canary"),
    ("Córdoba", "AR", "America/Argentina/Cordoba"),
    ("San José", "CR", "America/Costa_Rica"),
    ("Guatemala", "GT", "America/Guatemala"),
    ("Santo Domingo", "DO", "America/Santo_Domingo"),
    ("Asunción", "PY", "America/Asuncion"),
]
# Languages people speak where they live, besides Spanish.
LOCAL_LANGUAGES = {"Barcelona": "ca", "Valencia": "ca", "Bilbao": "eu", "Asunción": "gn"}

FIRST_NAMES = [
    "Mateo",
    "Sofía",
    "Hugo",
    "Valentina",
    "Martín",
    "Camila",
    "Pablo",
    "Isabella",
    "Diego",
    "Martina",
    "Javier",
    "Daniela",
    "Alejandro",
    "Paula",
    "Santiago",
    "Carmen",
    "Andrés",
    "Elena",
    "Tomás",
    "Gabriela",
    "Nicolás",
    "Lorena",
    "Sebastián",
    "Ana",
    "Emilio",
    "Renata",
    "Joaquín",
    "Julia",
    "Rodrigo",
    "Ximena",
    "Iker",
    "Fernanda",
]
LAST_NAMES = [
    "Fernández",
    "López",
    "Martínez",
    "Rodríguez",
    "Gómez",
    "Díaz",
    "Pérez",
    "Sánchez",
    "Romero",
    "Torres",
    "Flores",
    "Rivera",
    "Vargas",
    "Castro",
    "Ortiz",
    "Morales",
    "Herrera",
    "Medina",
    "Rojas",
    "Navarro",
    "Silva",
    "Mendoza",
    "Vega",
    "Aguirre",
    "Quispe",
]
# What people do, said without grammatical gender so any name fits.
HEADLINES = [
    "Diseño UX freelance",
    "Desarrollo backend (Python y Django)",
    "Product manager en remoto",
    "Estrategia de contenidos y copywriting",
    "Ilustración de libros infantiles",
    "Análisis de datos para ONG",
    "Traducción inglés, español y portugués",
    "Consultoría de marketing para pymes",
    "Desarrollo de apps móviles con Flutter",
    "Asesoría fiscal para autónomos",
    "Edición de video y motion graphics",
    "SEO y contenidos para tiendas online",
    "DevOps y cloud",
    "Consultoría de accesibilidad web",
    "Fotografía de producto",
    "Gestión de comunidades online",
    "Desarrollo frontend (React y CSS)",
    "Coaching para gente que emprende",
    "Producción de pódcast",
    "Profe de español online",
]
BIOS = [
    "Trabajo en remoto desde antes de que se pusiera de moda. Ayudo a equipos a lanzar su "
    "primer producto y siempre me apetece revisar portfolios.",
    "Laburo desde casa hace años y extrañaba la charla de oficina. Acá encontré con quién "
    "tomar unos mates virtuales entre reunión y reunión.",
    "Chambeo con clientes de México y España, así que vivo entre husos horarios. Si buscas a "
    "alguien para una pausa a media mañana, cuenta conmigo.",
    "Freelance, con dos peques y mucha masa madre. Busco gente con la que compartir las "
    "tardes tranquilas de trabajo.",
    "Trabajo con startups de toda Latinoamérica. Me encanta conocer gente nueva y conectar "
    "proyectos que no sabían que se necesitaban.",
    "Vivo en el sur del mundo y trabajo para una empresa de Berlín. Las horas que coincidimos "
    "con España son oro: aprovechémoslas para un café.",
    "Me mudé de la ciudad a un pueblo con buena fibra. El coworking online me mantiene en "
    "contacto con el mundo (y con la cordura).",
    "Diseño, ilustro y de vez en cuando escribo. Madrugo para coincidir con la gente de "
    "España y a media tarde me toca la calma.",
    "Aprendí a programar por mi cuenta y ahora echo una mano a quien empieza. Pregúntame por "
    "tests, automatización o dónde comer los mejores tacos.",
    "Trabajo desde Montevideo con clientes de todo el mundo. Fan del café de especialidad y "
    "de las reuniones cortas.",
    "Me organizo por bloques de concentración. Si te apuntas a una sesión de foco, ahí "
    "estaré, con la cámara apagada y el té caliente.",
    "Doy clases online y preparo materiales. Me encanta aprender de otras profesiones: "
    "cuéntame a qué te dedicas.",
    "Empecé como freelance por necesidad y me quedé por gusto. Siempre con ganas de colaborar "
    "en proyectos con impacto social.",
    "Si estás empezando como autónomo y las facturas te dan dolor de cabeza, escríbeme: "
    "hablemos con un café delante.",
    "Cambié la oficina por el portátil hace dos años. Busco gente con quien compartir "
    "avances, dudas y algún que otro meme.",
    "Vengo del periodismo y ahora escribo para marcas. Me gustan las buenas historias, el "
    "ciclismo de domingo y las listas de tareas cortas.",
]
# Skills and interests (see `demo.people.interests_set`).
INTERESTS = [
    "Python",
    "Django",
    "Diseño UX",
    "Gestión de producto",
    "Marketing",
    "Copywriting",
    "Ilustración",
    "Ciencia de datos",
    "Fotografía",
    "Traducción",
    "Freelance",
    "Trabajo en remoto",
    "Correr",
    "Café",
    "Yoga",
    "Música",
    "Startups",
    "Sostenibilidad",
    "Docencia",
    "Edición de video",
    "SEO",
    "Apps móviles",
    "DevOps",
    "Accesibilidad",
    "Cocina",
    "Ciclismo",
    "Lectura",
    "Pódcast",
]
# The tags' English labels, where English says it differently.
INTERESTS_EN = {
    "Diseño UX": "UX design",
    "Gestión de producto": "Product management",
    "Ilustración": "Illustration",
    "Ciencia de datos": "Data science",
    "Fotografía": "Photography",
    "Traducción": "Translation",
    "Trabajo en remoto": "Remote work",
    "Correr": "Running",
    "Café": "Coffee",
    "Música": "Music",
    "Sostenibilidad": "Sustainability",
    "Docencia": "Teaching",
    "Edición de video": "Video editing",
    "Apps móviles": "Mobile apps",
    "Accesibilidad": "Accessibility",
    "Cocina": "Cooking",
    "Ciclismo": "Cycling",
    "Lectura": "Reading",
    "Pódcast": "Podcasts",
}
STAFF_INTERESTS = ["Trabajo en remoto", "Docencia", "Café"]
MEMBER_INTERESTS = ["Diseño UX", "Ilustración", "Café", "Accesibilidad", "Freelance"]

# Usual working hours in the member's own zone: a mix of early birds and late starters.
HOURS = [
    (time(8, 0), time(16, 0)),
    (time(9, 0), time(17, 0)),
    (time(10, 0), time(18, 30)),
    (time(7, 30), time(15, 0)),
    (time(11, 0), time(19, 0)),
]
OPEN_TO = [
    "open_to_collaborate",
    "open_to_mentor",
    "open_to_be_mentored",
    "open_to_clients",
    "open_to_chat",
]

# Who is meant, in chat lines and events: "staff", "member" (the printed member login), or
# the first other member living in a city ("Buenos Aires"), "/en" for an English speaker.
STAFF_KEY = "staff"
MEMBER_KEY = "member"

# Today's conversation in the cafeteria: (who, minutes before the seed ran, text). The
# "@Lucía García" line mentions the member login, who finds it behind the bell.
CAFETERIA_CHAT = [
    (
        "Sevilla",
        85,
        "¡Buenas! Me pongo un café y arranco ☕ ¿Alguien se apunta a una sesión de foco de "
        "50 minutos?",
    ),
    ("Barcelona/en", 82, "Count me in! Cameras off, I guess? 🙂"),
    ("Valencia", 78, "Yo también me apunto. Hoy toca pelearme con la factura trimestral…"),
    (
        "Buenos Aires",
        74,
        "Ánimo con eso. Si tenés dudas con las facturas a clientes de afuera, avisá, que lo "
        "sufrí el mes pasado 😅",
    ),
    ("Ciudad de México", 60, "Hola desde CDMX 👋 Recién llego, ¿qué me perdí?"),
    (
        "Bogotá",
        55,
        "Nada grave: café, facturas y el taller de mañana. Por cierto, ¿alguien ya usó Penpot "
        "en un proyecto real?",
    ),
    (
        "Barcelona",
        50,
        "Yo sí, con un cliente pequeño. Para trabajar en equipo va genial; te cuento en la pausa.",
    ),
    (
        "Ciudad de México/en",
        41,
        "Quick question: is the language exchange open to everyone, or do I need to sign up?",
    ),
    (
        STAFF_KEY,
        38,
        "¡Abierto a todo el mundo, Jake! Apúntate en Eventos y te llegará el recordatorio 😉",
    ),
    (
        "Santiago",
        25,
        "Acabo de publicar un post sobre formularios accesibles: "
        "https://example.com/blog/formularios-accesibles ¡Se aceptan comentarios!",
    ),
    (
        "Lima",
        12,
        "@Lucía García ¿te vienes mañana al taller de precios? Te guardo sitio 😄",
    ),
    ("Quito", 5, "Pausa para estirar las piernas y vuelvo. ¡Nos vemos en un rato!"),
]


@dataclass(frozen=True)
class EventIdea:
    """An event of the demo's calendar, placed relative to the day the seed runs: `day`
    days from today in `time_zone`, at `at` there (None: the next full hour at least an
    hour away). Meetups get a room of their own; staff sessions use the training room."""

    title: str
    kind: str
    created_by: str
    description: str
    day: int
    at: time | None = None
    minutes: int = 60
    time_zone: str = "Europe/Madrid"
    host: str | None = None
    capacity: int | None = None
    going: int = 10
    maybe: int = 3


EVENTS = [
    EventIdea(
        title="Café y clientes: ¿cómo consiguen los suyos?",
        kind="meetup",
        created_by="Buenos Aires",
        description=(
            "Media hora para contarnos qué les funciona (y qué no) para encontrar clientes. "
            "Sin diapositivas, solo charla. ¡Traigan su café o su mate!"
        ),
        day=0,
        minutes=45,
        time_zone="America/Argentina/Buenos_Aires",
        going=7,
    ),
    EventIdea(
        title="Taller: cómo poner precio a tu trabajo freelance",
        kind="training",
        created_by=STAFF_KEY,
        description=(
            "Tarifa por hora, por proyecto o por valor: repasamos cómo calcular tu precio, "
            "cómo subirlo sin perder clientes y cómo presentarlo en un presupuesto. Trae "
            "tus dudas y, si quieres, un presupuesto real para revisarlo juntos."
        ),
        day=1,
        at=time(18, 0),
        minutes=90,
        capacity=30,
        going=18,
        maybe=5,
    ),
    EventIdea(
        title="Intercambio de idiomas / Language exchange",
        kind="meetup",
        created_by="Madrid/en",
        description=(
            "Media hora en español y media en inglés, en grupos pequeños. Todos los niveles "
            "son bienvenidos. / Half an hour in Spanish, half in English, in small groups. "
            "All levels welcome."
        ),
        day=2,
        at=time(19, 0),
        going=9,
    ),
    EventIdea(
        title="Revisión de portfolios entre colegas",
        kind="meetup",
        created_by="Ciudad de México",
        description=(
            "Trae tu portafolio y, en grupos de tres, nos damos ideas concretas para "
            "mejorarlo. Pocos lugares, para que a todos les dé tiempo."
        ),
        day=3,
        at=time(11, 0),
        time_zone="America/Mexico_City",
        capacity=6,
        going=8,
        maybe=2,
    ),
    EventIdea(
        title="Charla abierta: accesibilidad web sin dramas",
        kind="talk",
        created_by=STAFF_KEY,
        host="Santiago",
        description=(
            "Qué revisar antes de entregar una web, qué herramientas usar y cómo convencer "
            "al cliente de que la accesibilidad no es un extra. Con tiempo para preguntas, "
            "y después seguimos la charla en la cafetería."
        ),
        day=7,
        at=time(18, 30),
        going=14,
        maybe=6,
    ),
    EventIdea(
        title="Demo day de la comunidad",
        kind="talk",
        created_by=STAFF_KEY,
        description=(
            "Cinco miembros nos enseñan en cinco minutos en qué están trabajando. "
            "Aplausos virtuales garantizados."
        ),
        day=-5,
        at=time(18, 0),
        going=16,
    ),
    EventIdea(
        title="Taller: facturar a clientes del extranjero",
        kind="training",
        created_by=STAFF_KEY,
        description=(
            "IVA intracomunitario, clientes fuera de la UE y cobros en otras monedas, "
            "explicado sin jerga por alguien que lo hace cada mes."
        ),
        day=-12,
        at=time(17, 0),
        minutes=90,
        going=20,
    ),
]

# Permanent rooms made by staff: (name, description). Staff sessions happen in the first.
TRAINING_ROOM = (
    "Sala de formación",
    "Donde hacemos los talleres y las charlas. Fuera de las sesiones, sala libre para reuniones.",
)
FOCUS_ROOM = (
    "Hora de concentración",
    "Cámaras apagadas y a lo tuyo: 50 minutos de trabajo, 10 de charla.",
)

NEWSLETTER_READERS = [
    f"lector.uno@{DEMO_DOMAIN}",
    f"reader.two@{DEMO_DOMAIN}",
    f"lectora3@{DEMO_DOMAIN}",
]
NEWSLETTER_SUBJECT = "Bienvenida a la newsletter de la comunidad"
NEWSLETTER_BODY = (
    "¡Hola!\n\nCada mes te contamos lo que pasa en la comunidad:\n\n"
    "- **Talleres y charlas** casi cada semana, a las 18:00 (hora de Madrid).\n"
    "- Nuevas salas para trabajar en compañía.\n"
    "- Los cafés por parejas, cada dos semanas.\n\n"
    "Nos vemos en la cafetería ☕"
)
