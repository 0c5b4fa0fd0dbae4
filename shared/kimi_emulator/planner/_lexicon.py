"""Word lists the responder reads text with: stop words, units, places and first names.

Small, fixed tables: the responder is deterministic and knows only what is written here.
The places are well-known cities (with their country) and countries; an unknown
capitalised name after "in", "at", "from"... is still taken as a place.
"""

from __future__ import annotations

__all__ = [
    "CITIES",
    "COUNTRIES",
    "FIRST_NAMES",
    "GENERIC",
    "LOCATION_PREPOSITIONS",
    "NOT_NAMES",
    "PERSON_CUES",
    "SCALES",
    "STOP",
    "SYNONYMS",
    "UNITS",
    "UNIT_WORDS",
    "words_of",
]


def words_of(text: str) -> frozenset[str]:
    """The words of a space-separated list."""
    return frozenset(text.split())


_STOP_WORDS = (
    "a an the is are was were be been am do does did what whats what's which who whom "
    "whose when where why how can could would should will shall may might must please "
    "tell me my i you your we our us it its this that these those there here of in on at "
    "to for from by with about into over under and or but not no yes if then than so as "
    "use using call tool tools function value give get show find let lets let's hi hello "
    "hey thanks thank ok okay now today just also some any all one need want like know "
    "describe extract convert compare summarize summarise list search send create write "
    "return translate calculate compute book check look answer explain reply respond "
    "generate provide say make put set run try see help given following currently current "
    "again too very much many more most other another each every both either same s"
)
#: Words that carry no meaning for picking a tool or a value.
STOP = words_of(_STOP_WORDS)

#: Words of tool descriptions that say nothing about what the tool is for.
GENERIC = words_of(
    "get gets getting current latest given specified provided returns return result "
    "results value values input inputs output function tool data information info string "
    "number integer float text new specific name named based way also retrieve retrieves "
    "fetch fetches look looks up lookup str int bool dict list none any optional"
)

#: Unit spellings (lower case) -> the unit's canonical name.
UNITS: dict[str, str] = {
    "c": "celsius",
    "°c": "celsius",
    "degc": "celsius",
    "celsius": "celsius",
    "centigrade": "celsius",
    "f": "fahrenheit",
    "°f": "fahrenheit",
    "degf": "fahrenheit",
    "fahrenheit": "fahrenheit",
    "kelvin": "kelvin",
    "km": "km",
    "kilometers": "km",
    "kilometres": "km",
    "mi": "miles",
    "mile": "miles",
    "miles": "miles",
    "m": "meters",
    "meters": "meters",
    "metres": "meters",
    "kg": "kg",
    "kilograms": "kg",
    "lb": "pounds",
    "lbs": "pounds",
    "%": "percent",
    "percent": "percent",
    "$": "usd",
    "usd": "usd",
    "dollars": "usd",
    "dollar": "usd",
    "€": "eur",
    "eur": "eur",
    "euros": "eur",
    "euro": "eur",
    "years": "years",
    "year": "years",
    "yrs": "years",
    "days": "days",
    "day": "days",
    "hours": "hours",
    "hour": "hours",
    "minutes": "minutes",
    "minute": "minutes",
    "people": "people",
    "inhabitants": "people",
    "residents": "people",
}
#: Canonical unit names (a parameter named after one takes only numbers in that unit).
UNIT_WORDS = frozenset(UNITS.values()) - {"people"}

#: Multipliers written after a number ("2.1 million").
SCALES: dict[str, float] = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "billion": 1e9,
    "billions": 1e9,
}

#: Field words -> words that mark a number or a value as theirs.
SYNONYMS: dict[str, frozenset[str]] = {
    "age": frozenset({"years", "old", "aged", "age"}),
    "temperature": frozenset({"celsius", "fahrenheit", "kelvin", "degrees", "temp"}),
    "temp": frozenset({"celsius", "fahrenheit", "kelvin", "degrees", "temperature"}),
    "population": frozenset({"people", "inhabitants", "residents", "population"}),
    "price": frozenset({"usd", "eur", "price", "cost", "costs", "dollars"}),
    "cost": frozenset({"usd", "eur", "price", "cost", "costs", "dollars"}),
    "celsius": frozenset({"celsius", "c"}),
    "fahrenheit": frozenset({"fahrenheit", "f"}),
    "rating": frozenset({"rated", "rate", "rating", "score", "stars"}),
    "score": frozenset({"rated", "rating", "score", "points"}),
}

LOCATION_PREPOSITIONS = frozenset({"in", "at", "from", "to", "near", "around", "visit", "of"})
#: Words just before a name that say it is a person's.
PERSON_CUES = frozenset(
    {"named", "called", "mr", "mrs", "ms", "dr", "prof", "sir", "madam", "dear", "user", "customer"}
)
#: Capitalised words that are not names of anything.
NOT_NAMES = words_of(
    "fahrenheit celsius kelvin json yaml xml csv html api url http https id ok ai llm "
    "monday tuesday wednesday thursday friday saturday sunday january february march "
    "april may june july august september october november december today tomorrow "
    "yesterday thought action observation answer question final begin input output note "
    "true false null none yes no english"
)

_CITIES = (
    "Paris=France;Lyon=France;Marseille=France;Nice=France;Toulouse=France;"
    "London=United Kingdom;Manchester=United Kingdom;Edinburgh=United Kingdom;"
    "Berlin=Germany;Munich=Germany;Hamburg=Germany;Frankfurt=Germany;Cologne=Germany;"
    "Madrid=Spain;Barcelona=Spain;Seville=Spain;Valencia=Spain;Lisbon=Portugal;"
    "Porto=Portugal;Rome=Italy;Milan=Italy;Naples=Italy;Florence=Italy;Venice=Italy;"
    "Turin=Italy;Amsterdam=Netherlands;Rotterdam=Netherlands;Brussels=Belgium;"
    "Vienna=Austria;Zurich=Switzerland;Geneva=Switzerland;Bern=Switzerland;"
    "Prague=Czech Republic;Warsaw=Poland;Krakow=Poland;Budapest=Hungary;Athens=Greece;"
    "Stockholm=Sweden;Oslo=Norway;Bergen=Norway;Copenhagen=Denmark;Helsinki=Finland;"
    "Dublin=Ireland;Reykjavik=Iceland;Moscow=Russia;Istanbul=Turkey;Ankara=Turkey;"
    "Cairo=Egypt;Lagos=Nigeria;Nairobi=Kenya;Johannesburg=South Africa;"
    "Cape Town=South Africa;Casablanca=Morocco;Dubai=United Arab Emirates;Tehran=Iran;"
    "Mumbai=India;Delhi=India;New Delhi=India;Bangalore=India;Beijing=China;Shanghai=China;"
    "Shenzhen=China;Guangzhou=China;Hong Kong=China;Tokyo=Japan;Osaka=Japan;Kyoto=Japan;"
    "Seoul=South Korea;Singapore=Singapore;Bangkok=Thailand;Jakarta=Indonesia;"
    "Manila=Philippines;Hanoi=Vietnam;Taipei=Taiwan;Sydney=Australia;Melbourne=Australia;"
    "Auckland=New Zealand;New York=United States;Los Angeles=United States;"
    "San Francisco=United States;Chicago=United States;Boston=United States;"
    "Seattle=United States;Miami=United States;Austin=United States;Denver=United States;"
    "Washington=United States;Toronto=Canada;Vancouver=Canada;Montreal=Canada;"
    "Mexico City=Mexico;Havana=Cuba;Bogota=Colombia;Lima=Peru;Santiago=Chile;"
    "Buenos Aires=Argentina;Sao Paulo=Brazil;Rio de Janeiro=Brazil;Brasilia=Brazil;"
)


def _parse_cities(spec: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in spec.split(";") if "=" in item)
    return {city.strip(): country.strip() for city, country in pairs}


#: Well-known cities (lower case) -> (name, country).
CITIES: dict[str, tuple[str, str]] = {
    city.lower(): (city, country) for city, country in _parse_cities(_CITIES).items()
}

_COUNTRIES = (
    "France|Germany|Spain|Portugal|Italy|Netherlands|Belgium|Austria|Switzerland|"
    "Czech Republic|Poland|Hungary|Greece|Sweden|Norway|Denmark|Finland|Ireland|Iceland|"
    "Russia|Turkey|Egypt|Nigeria|Kenya|South Africa|Morocco|United Arab Emirates|Iran|"
    "India|China|Japan|South Korea|Singapore|Thailand|Indonesia|Philippines|Vietnam|"
    "Taiwan|Australia|New Zealand|United States|USA|United Kingdom|UK|England|Scotland|"
    "Wales|Canada|Mexico|Cuba|Colombia|Peru|Chile|Argentina|Brazil|Ukraine|Romania|"
    "Bulgaria|Croatia|Serbia|Israel|Saudi Arabia|Pakistan|Bangladesh|Malaysia|Ethiopia"
)
#: Countries (lower case) -> their name.
COUNTRIES: dict[str, str] = {c.lower(): c for c in _COUNTRIES.split("|")}

#: Common first names (lower case): a capitalised name starting with one is a person's.
FIRST_NAMES = words_of(
    "alice bob carol dave david eve frank grace heidi ivan judy mallory oscar peggy trent "
    "victor walter ada alan grace linus guido john jane mary james robert michael william "
    "richard joseph thomas charles chris christopher daniel matthew anthony mark paul "
    "steven andrew kevin brian george edward ronald timothy jason jeffrey ryan jacob gary "
    "nicholas eric jonathan stephen larry justin scott brandon benjamin samuel patricia "
    "jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa betty margaret "
    "sandra ashley kimberly emily donna michelle dorothy carol amanda melissa deborah "
    "stephanie rebecca sharon laura cynthia kathleen amy shirley angela helen anna brenda "
    "pamela nicole emma samantha katherine christine debra rachel catherine carolyn janet "
    "ruth maria heather diane virginia julie joyce victoria olivia kelly christina lauren "
    "joan evelyn judith megan cheryl andrea hannah martha jacqueline frances gloria ann "
    "teresa kathryn sara janice jean alice madison doris abigail julia judy grace denise "
    "amber marilyn beverly danielle theresa sophia marie diana brittany natalie isabella "
    "charlotte rose alexis kayla pierre jean marie sophie lucas louis hugo lea chloe "
    "manon camille hans anna lena max felix luca marco giulia sofia pablo carlos juan "
    "jose ana lucia wei li ming yuki hiro kenji aiko mohammed ahmed fatima omar ali priya "
    "raj arjun ravi noah liam ethan mason logan oliver elijah aiden jackson"
)
