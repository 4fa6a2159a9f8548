"""The demo community's people, places and words: Spanish first, some English."""

from datetime import time

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "staff-demo-2026"
MEMBER_EMAIL = "member@example.com"
MEMBER_PASSWORD = "member-demo-2026"
MEMBER_COUNT = 60

# (city, ISO country, IANA zone): the founding community runs from UTC-6 to UTC+1.
PLACES = [
    ("Madrid", "ES", "Europe/Madrid"),
    ("Barcelona", "ES", "Europe/Madrid"),
    ("Valencia", "ES", "Europe/Madrid"),
    ("Sevilla", "ES", "Europe/Madrid"),
    ("Bilbao", "ES", "Europe/Madrid"),
    ("Las Palmas", "ES", "Atlantic/Canary"),
    ("Ciudad de México", "MX", "America/Mexico_City"),
    ("Guadalajara", "MX", "America/Mexico_City"),
    ("Bogotá", "CO", "America/Bogota"),
    ("Medellín", "CO", "America/Bogota"),
    ("Lima", "PE", "America/Lima"),
    ("Santiago", "CL", "America/Santiago"),
    ("Buenos Aires", "AR", "America/Argentina/Buenos_Aires"),
    ("Córdoba", "AR", "America/Argentina/Cordoba"),
    ("Montevideo", "UY", "America/Montevideo"),
    ("Quito", "EC", "America/Guayaquil"),
    ("San José", "CR", "America/Costa_Rica"),
    ("Guatemala", "GT", "America/Guatemala"),
    ("Santo Domingo", "DO", "America/Santo_Domingo"),
    ("Asunción", "PY", "America/Asuncion"),
]

FIRST_NAMES = [
    "Lucía",
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
]
LAST_NAMES = [
    "García",
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
]
HEADLINES = [
    "Freelance UX designer",
    "Backend developer (Python and Django)",
    "Product manager",
    "Content strategist and copywriter",
    "Illustrator for children's books",
    "Data analyst",
    "Translator (English, Spanish, Portuguese)",
    "Marketing consultant",
    "Mobile developer",
    "Accountant for freelancers",
    "Video editor",
    "SEO specialist",
    "DevOps engineer",
    "Accessibility consultant",
    "Photographer",
    "Community manager",
    "Frontend developer",
    "Business coach",
    "Podcast producer",
    "Teacher of Spanish online",
]
INTERESTS = [
    "Python",
    "Django",
    "UX design",
    "Product management",
    "Marketing",
    "Copywriting",
    "Illustration",
    "Data science",
    "Photography",
    "Translation",
    "Freelancing",
    "Remote work",
    "Running",
    "Coffee",
    "Yoga",
    "Music",
    "Startups",
    "Sustainability",
    "Teaching",
    "Video editing",
    "SEO",
    "Mobile apps",
    "DevOps",
    "Accessibility",
    "Cooking",
    "Cycling",
    "Reading",
    "Podcasting",
]


BIOS = [
    "I left an agency job three years ago and now work with small studios across the Atlantic. "
    "I love a good coffee break and talking about typography.",
    "Remote since before it was cool. I help teams ship their first product and I am always "
    "happy to review someone's portfolio.",
    "Freelancer, parent of two and amateur baker. Looking for people to share the quiet hours "
    "of the afternoon with.",
    "Self-taught, now mentoring juniors. Ask me about testing, automation or the best tacos in "
    "town.",
    "I moved from the city to a village with good fibre. Coworking online keeps me sane and "
    "connected.",
]
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

CAFETERIA_CHAT = [
    "¡Buenos días desde Madrid! ☕",
    "Good morning! Anyone up for a focus hour at 10?",
    "Buenas desde Bogotá, aquí todavía es de noche 🌙",
    "Acabo de publicar el post sobre accesibilidad: https://example.com/blog/a11y",
    "¿Alguien ha probado el nuevo editor? Me está gustando.",
    "Hoy toca pelearse con la factura trimestral…",
]

NEWSLETTER_READERS = ["lector.uno@example.org", "reader.two@example.org", "lectora3@example.org"]
