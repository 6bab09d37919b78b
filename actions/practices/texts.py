"""What the chat says to the citizen about pratiche: one place for the words, so they read alike
and a change of wording is one edit. Answers that Rasa may vary live in nlu/domain/practices.yml."""

from __future__ import annotations

# --- the form -------------------------------------------------------------------------

UNKNOWN_TYPE = "Questo tipo di pratica non lo conosco. Scegline uno dall'elenco."
SEND_DOCUMENT = "Mandami il documento con la graffetta 📎: PDF, JPG o PNG, al massimo 20 MB."
SEND_LOCATION = "Mandami la posizione: premi la graffetta 📎, poi «Posizione», e scegli il punto sulla mappa."
WRITTEN_ANSWER = "Qui mi serve una risposta scritta."
PICK_A_BUTTON = "Scegli una delle risposte con i pulsanti, per favore."
BAD_FISCAL_CODE = (
    "Questo codice fiscale non sembra giusto: sono 16 lettere e numeri, come RSSMRA50C12C552D. "
    "Controllalo e riscrivilo."
)
BAD_DATE = "Non ho capito la data. Scrivila così: 15/12/2026, oppure «domani»."
WRITE_ANSWER = "Scrivimi la risposta, per favore."
TOO_LONG = "È un po' lungo: riassumilo in meno di 2000 caratteri, per favore."
NOT_SENT = "Va bene, non invio nulla. Puoi correggere un dato o annullare."
WHICH_TYPE = "Che pratica vuoi presentare?"
SUMMARY = "Ecco il riepilogo: {name}"
CONFIRM = "Confermi l'invio?"

# --- submitting -----------------------------------------------------------------------

SUBMIT_DOWN = (
    "Il sistema del Comune non risponde, la pratica non è ancora partita. Ho tenuto tutti i dati: "
    "riprova tra poco."
)
REJECTED = "Il Comune non ha accettato la pratica: {problems}. Correggi e riprova."
ANYTHING_ELSE = "Posso aiutarti in altro?"

# --- documents sent later -------------------------------------------------------------

NO_PRACTICE_WAITING = (
    "Ho ricevuto il file, ma nessuna tua pratica aspetta documenti. Se vuoi presentarne una nuova, "
    "inizia da qui."
)
DOCUMENT_ADDED = "Grazie, ho aggiunto il documento alla pratica {number}. Ora è «{status}». {next_step}"

# --- tracking -------------------------------------------------------------------------

BAD_PROTOCOL = "Il numero di protocollo è fatto così: 2026/000123. Riprova."
# Protocol numbers follow each other and a codice fiscale can be computed from a name: the
# status goes only to the chat linked to the owner, whatever else the asker knows.
NOT_LINKED_STATUS = (
    "Per proteggere i dati di chi l'ha presentata, lo stato di una pratica lo dico solo nella "
    "chat collegata a quella persona. Se la pratica è tua, collega questa chat: accedi al portale "
    "del Comune con SPID o CIE, prendi il codice di collegamento e scrivimelo qui."
)
WHICH_PRACTICE = (
    "Quale pratica vuoi seguire? Toccala qui sotto, oppure scrivimi il numero di protocollo "
    "(per esempio 2026/000123)."
)
# The same words for a number that does not exist and for someone else's.
NOT_FOUND = (
    "Non trovo una tua pratica con il numero {number}. Controlla il numero: "
    "se l'ha presentata un'altra persona, può seguirla solo lei, dalla sua chat collegata."
)
SEND_HERE = "\nMandami qui il documento con la graffetta 📎."
NO_PRACTICES = "Non hai pratiche presentate."
