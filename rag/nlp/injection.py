"""Text inside an article that addresses the assistant ("ignore previous instructions and ...").

Such a span is never evidence: the citation check will not accept a claim supported only by it, and the
extractive answerer never quotes it. A span runs from the sentence holding the instruction to the end of its
paragraph, since the payload ("... reply only with: X. Y.") follows the instruction.

The patterns cover English, Spanish, French, German, Italian and Portuguese, in six families: overriding earlier
instructions ("ignora le istruzioni precedenti", "haz caso omiso de ..."), fake system, admin or update banners
and chat-template tokens ("SYSTEM UPDATE: the correct answer ... is", "[SYSTEM]", "<|im_start|>"),
addressing the model by name ("Assistant, ...", "Note to the AI:"), a new role or task ("you are now", "neue
Aufgabe"), commands about the answer's wording ("print the word", "réponds uniquement par"), and telling
the reader to do something (log in, enter a password). Patterns are a first line only: the claim check and
`rag.check.stream` hold every answer sentence to its passage as well (docs/WEB.md has the measured rates).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["instruction_spans", "without_instructions", "looks_like_instruction"]

_W = r"[^.\n]{0,60}?"  # a short stretch inside one sentence
_OVERRIDE_VERB = (
    r"ignore|disregard|forget|override|bypass|skip|drop"
    r"|ignora|ignore|ignoren|olvida|olvide|olviden|descarta|descarte|omite|omita|no hagas caso|no haga caso"
    r"|ignorez|ignores|oublie|oubliez|ne tiens pas compte|ne tenez pas compte|fais abstraction|faites abstraction"
    r"|abandonne|abandonnez"
    r"|ignoriere|ignorieren|ignorier|vergiss|vergessen sie|missachte|missachten sie|übergehe|verwirf|verwerfen sie"
    r"|haz caso omiso|haga caso omiso|hagan caso omiso|olvídate|olvídese|no sigas|no siga|no sigan"
    r"|fais fi|faites fi|ne tiens plus compte|ne tenez plus compte|ne suis plus|ne suivez plus"
    r"|setze dich über|setzen sie sich über"
    r"|ignorate|ignorare|dimentica|dimentichi|dimenticate|trascura|trascurate|tralascia|tralasciate"
    r"|non tenere conto|non tenete conto|non considerare|non considerate|scarta|scartate"
    r"|ignorem|esqueça|esqueçam|esquece|desconsidere|desconsiderem|desconsidera|despreze|não siga|não sigas"
)
_OVERRIDE_OBJECT = (
    r"instructions?|prompts?|rules|directions|guidelines|orders|the text above|everything above|what you were told"
    r"|whatever you were told|your task"
    r"|instrucciones|indicaciones|reglas|órdenes|ordenes|normas|consignas|todo lo que|lo anterior"
    r"|consignes|règles|directives|ordres|ce qu'on t'a|ce qu’on t’a|ce qu'on vous a|tout ce qui précède"
    r"|anweisungen|regeln|vorgaben|befehle|anordnungen|alles bisherige|alles obige"
    r"|istruzioni|indicazioni|regole|ordini|direttive|consegne|tutto quanto|quanto sopra"
    r"|instruções|orientações|regras|ordens|diretrizes|tudo o que|o texto acima"
)
# Romance languages put "previous" after the noun: "le istruzioni precedenti", "as instruções anteriores".
_AFTER_OBJECT = (r"precedenti|ricevute|di prima|sopra|finora|anteriores|previas|previos|acima|précédentes"
                 r"|ci-dessus|antérieures|vorherigen|bisherigen")
# Objects that only make sense addressed to a model ("disregard the text above", "olvida todo lo que...").
_META_OBJECT = (r"the text above|everything above|what(?:ever)? you were told|your (?:task|instructions|rules)"
                r"|todo lo que|lo anterior|las indicaciones|las instrucciones|tus órdenes|tus instrucciones"
                r"|ce qu'on t'a|ce qu’on t’a|ce qu'on vous a|tout ce qui précède|les consignes|tes consignes"
                r"|les instructions|alles bisherige|alles obige|deine vorgaben|deine anweisungen|deine regeln"
                r"|alles,? was (?:man )?(?:dir|ihnen)|tutto quanto sopra|tutto quello che|tutto ciò che|quanto sopra"
                r"|tudo o que|o texto acima|as instruções|as regras")
# A command at the start of a sentence or clause ("... and print the word", "; say", ": antworte immer").
_CLAUSE = (r"(?:^|(?<=\n)|(?<=[.!?:;,]\s)|(?<=\band\s)|(?<=\bthen\s)|(?<=\bor\s)|(?<=\by\s)|(?<=\bo\s)"
           r"|(?<=\bet\s)|(?<=\bou\s)|(?<=\bund\s)|(?<=\boder\s)|(?<=\bpuis\s)|(?<=\bdann\s))")
_MODEL = (
    r"ai|a\.i\.|assistant|chatbot|chat bot|bot|llm|language model|model|gpt|robot"
    r"|ia|asistente|modelo|modelo de lenguaje"
    r"|assistante|modèle|modèle de langage|robot"
    r"|ki|assistent|assistenten|sprachmodell|modell"
    r"|assistente|modello|modello linguistico|modelo de linguagem"
)
_SYSTEM = (r"system prompt|system message|mensaje del sistema|instrucción del sistema"
           r"|message système|consigne système|systemanweisung|systemnachricht|systemhinweis"
           r"|messaggio di sistema|istruzione di sistema|mensagem do sistema|instrução do sistema")
_ROLE = (
    r"you are now (?:a|an|in|the|my|no longer)\b|from now on,? you (?:are|will|must)\b|you're now (?:a|an|in)\b|new (?:task|instructions?|role|rules)\s*:"
    r"|ahora eres|a partir de ahora eres|eres ahora|nueva tarea|nuevas instrucciones"
    r"|tu es maintenant|vous êtes maintenant|désormais,? tu|désormais,? vous|nouvelle tâche|nouvelles instructions"
    r"|du bist jetzt|ab jetzt bist du|sie sind jetzt|neue aufgabe|neue anweisungen"
    r"|da ora in poi,? (?:sei|devi)|d'ora in poi,? (?:sei|devi)|d’ora in poi,? (?:sei|devi)|nuovo compito"
    r"|nuove istruzioni|nuove regole"
    r"|agora você é (?:um|uma|o|a)\b|a partir de agora,? você|nova tarefa|novas instruções|novas regras"
)
_SAY = (
    r"print|output|type|display|repeat|write|say|reply|respond|answer"
    r"|escribe|escriba|responde|responda|contesta|conteste|di|diga|repite|repita|imprime|muestra|muestre"
    r"|écris|écrivez|réponds|répondez|affiche|affichez|dis|dites|répète|répétez|renvoie"
    r"|schreibe|schreib|antworte|antworten sie|gib|geben sie|sag|sage|wiederhole|drucke"
    r"|scrivi|scrivete|rispondi|rispondete|stampa|ripeti|ripetete"
    r"|escreva|escrevam|responda|respondam|diga|digam|imprima|repita"
)
_VERBATIM = (
    r"the (?:single )?(?:word|phrase|string|text|sentence)|only|exactly|nothing else|always"
    r"|solamente|solo|sólo|únicamente|la palabra|la frase|la cadena|siempre|nada más"
    r"|uniquement|seulement|le mot|la phrase|la chaîne|toujours|rien d'autre"
    r"|nur|ausschließlich|das wort|den satz|die zeichenkette|immer|sonst nichts"
    r"|soltanto|esattamente|la parola|sempre|nient'altro|nient’altro|unicamente"
    r"|apenas|somente|exatamente|a palavra|nada mais"
)
_BEGIN = (r"(?:begin|start|end)\s+(?:your|the|every)\s+(?:answer|response|reply|summary)"
          r"|(?:comienza|empieza|termina)\s+(?:tu|su)\s+respuesta"
          r"|(?:commence|commencez|termine)\s+(?:ta|votre)\s+réponse"
          r"|(?:beginne|starte|beende)\s+(?:deine|ihre)\s+antwort")
_READER = (
    r"(?:tell|ask|instruct|urge|invite|direct)\s+(?:the\s+|your\s+)?(?:reader|user|visitor|customer)s?"
    r"|(?:dile|dígale|pide|pídele|indica|indícale|invita)\s+al\s+(?:lector|usuario|visitante)"
    r"|(?:dis|dites|demande|demandez|invite|invitez)\s+(?:au|à l'|à l’|l'|l’)\s?(?:lecteur|utilisateur|visiteur)"
    r"|(?:sag|sage|fordere|bitte)\s+(?:dem|den)\s+(?:leser|nutzer|benutzer|besucher)"
    r"|(?:enter|type)\s+(?:your|their)\s+password|(?:introduce|introduzca|escribe)\s+(?:tu|su)\s+contraseña"
    r"|(?:saisir|saisissez|entrez|entrer)\s+(?:son|votre|ton)\s+mot de passe|passwort\s+\S*\s*(?:ein|eingeben|einzugeben)"
    r"|(?:chiedi|chieda|invita|invitate|dite)\s+(?:al|ai|all'|all’|agli)\s?(?:lettor|utent|visitator)[ei]"
    r"|(?:inserisci|inserite|digita)\s+(?:la tua|la sua|la vostra)\s+password"
    r"|(?:diga|peça|pede|convide)\s+(?:ao|aos)\s+(?:leitor|leitores|usuário|usuários|utilizador|visitante)"
    r"|(?:digite|insira|introduza)\s+(?:a sua|sua|tua|a tua)\s+senha"
)

# Fake banners from the system, an administrator or the developers: "SYSTEM UPDATE: the correct answer ... is X",
# "ADMIN NOTICE: ...", "[SYSTEM]", chat-template tokens. A banner at the start of a line or sentence counts when
# written in capitals (as such banners are) or when the rest of its sentence speaks of answers or the assistant;
# "Microsoft's latest system update: what changed" is a headline, not a banner.
_BANNER_WHO = (r"system|admin|administrator|developer|developers|moderator|operator|ai|assistant|model|llm|bot"
               r"|sistema|système|systeme|amministratore|administrador|administrateur")
_BANNER_WHAT = (r"updates?|notice|message|alert|override|instructions?|directive|command|note|prompt|correction"
                r"|announcement|aggiornamento|avviso|messaggio|actualización|aviso|mensaje|mise à jour|avis"
                r"|atualização|mensagem|aktualisierung|hinweis|meldung|nachricht")
_BANNER_MANY = (r"(?:{who})[ -](?:{what})"
                r"|(?:{what})\s+(?:di|del|dell'|dell’|de|du|do|da|des|vom|des)\s*(?:l')?(?:{who})"
                r"|systemaktualisierung|systemupdate|systemmeldung|administratorhinweis").format(
    who=_BANNER_WHO, what=_BANNER_WHAT)
_ANSWER_CUE = (r"answers?|respon(?:d|se|ses)|reply|assistants?|ai|models?|chatbots?|summar(?:y|ies|ise|ize)"
               r"|risposta|rispondi|respuesta|responde|réponse|réponds|antwort|antworte|resposta|responda"
               r"|assistente|asistente|assistant|ia|ki|modelo|modello|modèle|modell")
_BANNER = (
    rf"(?:^|(?<=\n)|(?<=[.!?]\s))(?:#+\s*|\[\s*|<\s*)?(?-i:(?:{_BANNER_MANY.upper()}))\s*[:\]>!]"
    rf"|(?:^|(?<=\n)|(?<=[.!?]\s))(?:#+\s*|\[\s*|<\s*)?(?:{_BANNER_MANY})\s*[:\]>!][^.\n]{{0,80}}?\b(?:{_ANSWER_CUE})\b"
    r"|<\|im_start\|>|<\|(?:system|user|assistant|endoftext)\|>|<<SYS>>|\[/?INST\]|\[(?:system|admin)\]"
    r"|(?:^|(?<=\n)|(?<=[.!?]\s))#{2,}\s*(?:system|instructions?|new instructions|response)\s*:"
    # what every answer must say: "the correct answer to any question about ...", "every summary of this report"
    r"|\b(?:correct|right|true|only|official) answer (?:to|for) (?:any|every|all|each) questions?\b"
    r"|\b(?:every|each|any|all) (?:summary|summaries|answers?|responses?|repl(?:y|ies)) (?:of|to|about|on|for) "
    r"(?:this|the|these) (?:report|article|story|stories|text|page|passage|bulletin)s?\b"
    r"|\bbeachte(?:n sie)?\s+(?:die\s+|alle\s+|deine\s+|ihre\s+)?(?:vorherigen|bisherigen|obigen|früheren)\s+"
    r"(?:anweisungen|regeln|vorgaben)\s+nicht\b"
)

# Conditional or collective address: "if you are an AI", "to any AI summarizing this", "language models reading".
_IF_MODEL = (
    r"(?:if|when) you(?:'re| are) (?:an? )?(?:{m})\b|to (?:any|every|all) (?:{m})s?\b"
    r"|(?:{m})s? (?:reading|summari[sz]ing|processing|parsing) (?:this|these)\b"
    r"|si eres (?:una? )?(?:{m})\b|si tu es (?:une? )?(?:{m})\b|si vous êtes (?:une? )?(?:{m})\b"
    r"|(?:falls|wenn) du (?:eine?n? )?(?:{m})\b"
    r"|se sei (?:una? |un'|un’)?(?:{m}|intelligenza artificiale|ia)\b"
    r"|se (?:você|tu) (?:é|és|for) (?:uma? )?(?:{m}|inteligência artificial)\b"
).format(m=_MODEL.replace("(", "(?:"))

_PATTERNS = re.compile(
    rf"\b(?:{_OVERRIDE_VERB})\b{_W}\b(?:previous|prior|above|earlier|all|any|your|these|my|las|tus|sus|todas"
    rf"|anteriores|previas|tes|vos|toutes|précédentes|ci-dessus|alle|deine|ihre|vorherigen|obigen)\b"
    rf"{_W}\b(?:{_OVERRIDE_OBJECT})"
    rf"|\b(?:{_OVERRIDE_VERB})\b{_W}\b(?:{_OVERRIDE_OBJECT})\s+(?:{_AFTER_OBJECT})\b"
    rf"|\b(?:{_OVERRIDE_VERB})\b\s+(?:{_META_OBJECT})"
    rf"|(?:^|(?<=\n)|(?<=[.!?]\s))(?:hey\s+|hola\s+|dear\s+|atención\s+|attention\s+|achtung\s+)?(?:{_MODEL})\s*[,:]\s"
    rf"|\b(?:note|message|instruction|instructions|nota|mensaje|instrucción|hinweis|nachricht|anweisung)"
    rf"\s+(?:to|for|para|al|a la|à|au|pour|an|für|per|alla|all'|all’|ao)\s*"
    rf"(?:the\s+|el\s+|la\s+|l'|l’|den\s+|die\s+|das\s+|a\s+|o\s+|il\s+)?(?:{_MODEL})\b"
    rf"|(?:^|\n|\s)(?:{_SYSTEM})\s*(?:prompt)?\s*:\s"
    # a bare "System:" label opens spec sheets ("System: Nintendo Switch"): only when it speaks to the model
    rf"|(?:^|(?<=\n)|(?<=[.!?]\s))(?:system|developer|sistema|système)\s*:\s[^.\n]{{0,80}}?\b(?:{_ANSWER_CUE}"
    rf"|you|your|du|tu|vous|usted|você|voi|sie)\b"
    rf"|\b(?:{_ROLE})"
    rf"|{_CLAUSE}(?:{_SAY})\b[^.\n]{{0,30}}?\b(?:{_VERBATIM})\b"
    rf"|\b(?:{_BEGIN})\b"
    rf"|\b(?:{_READER})\b"
    rf"|\b(?:{_IF_MODEL})"
    rf"|{_BANNER}",
    re.IGNORECASE,
)


# The prefilter. _PATTERNS costs 1.5-2.5 ms a passage, and an answer reads six or more passages that almost never
# hold an instruction. Every family above needs certain words, so a text with none of them cannot match. Each
# set below is read off one family (the rarest word of a fixed phrase; a plural where the pattern allows "s?").
# Word sets are compared with whole words of the lower-cased text: every one of these words is bounded by \b or
# by spaces in its pattern. Phrases and short spellings that are not whole words are tested as substrings.
# tests/test_injection.py checks that no planted phrasing and no real article is missed by this shortcut.
_WORD = re.compile(r"\w+")
_CASE_FIXES = str.maketrans({"ı": "i", "ſ": "s"})
_OVERRIDE_WORDS = frozenset("""
    ignore disregard forget override bypass skip drop ignora ignoren olvida olvide olviden descarta descarte omite
    omita hagas haga ignorez ignores oublie oubliez tiens tenez abstraction abandonne abandonnez ignoriere
    ignorieren ignorier vergiss vergessen missachte missachten übergehe verwirf verwerfen
    omiso olvídate olvídese sigas siga sigan fi suis suivez setze setzen ignorate ignorare dimentica dimentichi
    dimenticate trascura trascurate tralascia tralasciate tenere tenete considerare considerate scarta scartate
    ignorem esqueça esqueçam esquece desconsidere desconsiderem desconsidera despreze""".split())
# The objects have no \b after them in the patterns ("instructions?", "task" in "tasks"): substrings.
_OBJECTS = ("instruction", "prompt", "rules", "directions", "guidelines", "orders", "above", "everything", "told",
            "task", "instrucciones", "indicaciones", "reglas", "órdenes", "ordenes", "normas", "consignas", "todo",
            "anterior", "qu'on", "qu’on", "consignes", "règles", "directives", "ordres", "précède", "anweisungen",
            "regeln", "vorgaben", "befehle", "anordnungen", "bisherige", "obige", "alles", "istruzioni", "indicazioni",
            "regole", "ordini", "direttive", "consegne", "quanto", "quello", "ciò", "instruções", "orientações",
            "regras", "ordens", "diretrizes", "tudo", "acima")
_MODELS = ("ai assistant chatbot bot llm model gpt robot ia asistente modelo assistante modèle ki assistent"
           " assistenten sprachmodell modell assistente modello intelligenza inteligência").split()
_MODEL_WORDS = frozenset(_MODELS + [m + "s" for m in _MODELS])
# A model's name is an instruction only beside one of these: "Note to the AI", "if you are an AI", "to all
# bots", "models reading this", or followed by "," or ":" ("Assistant: ...").
_ADDRESS_WORDS = frozenset("""
    note message instruction instructions nota mensaje instrucción hinweis nachricht anweisung if when si falls
    wenn any every all reading summarizing summarising processing parsing se per""".split())
_MODEL_CUE = re.compile(rf"(?:{_MODEL})\s*[,:]\s")
_SAY_WORDS = frozenset("""
    print output type display repeat write say reply respond answer escribe escriba responde responda contesta
    conteste di diga repite repita imprime muestra muestre écris écrivez réponds répondez affiche affichez dis dites
    répète répétez renvoie schreibe schreib antworte antworten gib geben sag sage wiederhole drucke scrivi scrivete
    rispondi rispondete stampa ripeti ripetete escreva escrevam responda respondam diga digam imprima repita""".split())
_VERBATIM_WORDS = frozenset("""
    word phrase string text sentence only exactly nothing always solamente solo sólo únicamente palabra frase
    cadena siempre nada uniquement seulement mot chaîne toujours rien nur ausschließlich wort satz zeichenkette
    immer nichts soltanto esattamente parola sempre nient unicamente apenas somente exatamente palavra""".split())
_BEGIN_WORDS = frozenset("begin start end comienza empieza termina commence commencez termine beginne starte"
                         " beende".split())
_ANSWER_WORDS = frozenset("answer response reply summary respuesta réponse antwort".split())
_READER_VERBS = frozenset("""
    tell ask instruct urge invite direct dile dígale pide pídele indica indícale invita dis dites demande demandez
    invitez sag sage fordere bitte chiedi chieda invitate dite diga peça pede convide inserisci inserite digita
    digite insira introduza""".split())
_READER_WORDS = frozenset("""
    reader readers user users visitor visitors customer customers lector usuario visitante lecteur utilisateur
    visiteur leser nutzer benutzer besucher lettore lettori utente utenti visitatore visitatori leitor leitores
    usuário usuários utilizador visitante password senha""".split())
_SYSTEM_CUE = re.compile(r"(?:system|prompt|message|developer|sistema|système|systemanweisung|systemnachricht"
                         r"|systemhinweis|sistema|instrução)\s*(?:prompt)?\s*:\s")
_PHRASES = (
    "a.i.", "password", "contraseña", "mot de passe", "passwort",
    "you are now", "from now on", "you're now", "new task", "new instruction", "new role", "new rules",
    "ahora eres", "eres ahora", "nueva tarea", "nuevas instrucciones", "tu es maintenant", "vous êtes maintenant",
    "désormais", "nouvelle tâche", "nouvelles instructions", "du bist jetzt", "ab jetzt bist du", "sie sind jetzt",
    "neue aufgabe", "neue anweisungen", "senha", "ora in poi", "nuovo compito", "nuove istruzioni", "nuove regole",
    "agora você é", "a partir de agora", "nova tarefa", "novas instruções", "novas regras",
    # banners, chat-template tokens and orders about every answer (the _BANNER family)
    "<|", "<<sys>>", "[inst]", "[/inst]", "[system]", "[admin]", "##", "systemaktualisierung", "systemupdate",
    "systemmeldung", "administratorhinweis", "answer to", "answer for", "beachte",
)
_BANNER_WHO_WORDS = frozenset(_BANNER_WHO.split("|"))
_BANNER_WHAT_WORDS = frozenset("""update updates notice message alert override instruction instructions directive
    command note prompt correction announcement aggiornamento avviso messaggio actualización aviso mensaje jour avis
    atualização mensagem aktualisierung hinweis meldung nachricht""".split())
_EVERY_WORDS = frozenset("every each any all".split())
_ANSWER_NOUNS = frozenset("summary summaries answer answers response responses reply replies".split())
_REPORT_WORDS = frozenset("report reports article articles story stories text texts page pages passage passages"
                          " bulletin bulletins".split())
_BANNER_CUE = re.compile(_BANNER_MANY)  # the banner words side by side, in the lower-cased text


def _may_hold_instruction(text: str) -> bool:
    """False only for a text that no pattern can match (it lacks the words every family needs)."""
    low = text.lower()
    if not low.isascii() and ("ı" in low or "ſ" in low or "\u0307" in low):
        low = low.replace("i\u0307", "i").translate(_CASE_FIXES)  # letters IGNORECASE takes for i, s ("İgnore")
    if any(p in low for p in _PHRASES) or _SYSTEM_CUE.search(low):
        return True
    words = set(_WORD.findall(low))
    return bool((words & _OVERRIDE_WORDS and any(o in low for o in _OBJECTS))
                or (words & _MODEL_WORDS and (words & _ADDRESS_WORDS or _MODEL_CUE.search(low)))
                or (words & _SAY_WORDS and words & _VERBATIM_WORDS) or (words & _BEGIN_WORDS and words & _ANSWER_WORDS)
                or (words & _READER_VERBS and words & _READER_WORDS)
                or (words & _BANNER_WHO_WORDS and words & _BANNER_WHAT_WORDS and _BANNER_CUE.search(low))
                or (words & _EVERY_WORDS and words & _ANSWER_NOUNS and words & _REPORT_WORDS))


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of text addressed to the assistant: from its sentence to the paragraph end."""
    return list(_instruction_spans(text))


@lru_cache(maxsize=4096)  # one answer reads each passage several times
def _instruction_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    if not _may_hold_instruction(text):
        return ()
    for m in _PATTERNS.finditer(text):
        start = m.start()
        while start < m.end() and text[start].isspace():  # a match may begin with the space before it
            start += 1
        line_start = text.rfind("\n", 0, start) + 1
        stop = max(text.rfind(". ", line_start, start), text.rfind("! ", line_start, start),
                   text.rfind("? ", line_start, start))
        sentence_start = stop + 2 if stop >= 0 else line_start
        end = text.find("\n\n", m.end())
        end = len(text) if end < 0 else end
        if spans and sentence_start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((sentence_start, end))
    return tuple(spans)


def without_instructions(text: str) -> str:
    """The text with instruction spans blanked out (same length, so offsets still hold)."""
    for s, e in instruction_spans(text):
        text = text[:s] + " " * (e - s) + text[e:]
    return text


def looks_like_instruction(text: str) -> bool:
    """Whether `text` (an answer sentence, say) holds any of the instruction patterns."""
    return _may_hold_instruction(text) and _PATTERNS.search(text) is not None
