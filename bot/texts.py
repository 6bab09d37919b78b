"""The few Italian texts the channel itself says: when Rasa cannot, or a message is not text."""

import math

PHONE = "06 896301"
# The switchboard with its hours, as the handoff says it (COMUNE_SWITCHBOARD, COMUNE_SWITCHBOARD_HOURS).
SWITCHBOARD = f"{PHONE} (lunedì–venerdì 9–12:30)"

ASSISTANT_DOWN = (
    "Mi dispiace, in questo momento non riesco a rispondere. Riprova tra qualche minuto. "
    f"Se hai fretta, chiama il centralino del Comune: {PHONE} (lunedì–venerdì 9–12:30)."
)
TOO_FAST = "Stai scrivendo molto in fretta: rispondo ai messaggi già arrivati, poi riscrivi."
STALE_BUTTON = "Questo pulsante non è più valido. Ecco il menu aggiornato."
STALE_BUTTON_ALERT = "Pulsante scaduto"
VOICE_NOT_SUPPORTED = (
    "Non riesco ad ascoltare i messaggi vocali. Usa i pulsanti qui sotto oppure scrivimi. "
    "Se preferisci, ti passo a una persona."
)
VIDEO_NOTE_NOT_SUPPORTED = (
    "Non riesco a guardare i videomessaggi. Usa i pulsanti qui sotto oppure scrivimi. "
    "Se preferisci, ti passo a una persona."
)
STICKER = "Grazie dell'adesivo! 🙂 Io capisco i pulsanti e le parole: scegli qui sotto cosa ti serve."
ANIMATION = "Non riesco a guardare le GIF. Scegli qui sotto cosa ti serve, oppure scrivimi."
VIDEO = (
    "Non riesco a guardare i video. Se vuoi mandarmi un documento, mandalo come foto o come PDF. "
    "Scegli qui sotto cosa ti serve."
)
CONTACT = "Grazie, ma non mi serve un numero di telefono e non lo tengo. Scegli qui sotto cosa ti serve."
DICE = "🎲 Io non so giocare, ma posso aiutarti con i servizi del Comune. Scegli qui sotto cosa ti serve."
POLL = "Non so rispondere ai sondaggi. Scegli qui sotto cosa ti serve, oppure scrivimi."
UNSUPPORTED_MESSAGE = (
    "Questo tipo di messaggio non lo so leggere. Scegli qui sotto cosa ti serve, oppure scrivimi."
)


# Modalità semplice (big buttons always under the chat) or compatta (buttons in the messages).
def call_the_switchboard(switchboard: str) -> str:
    """No staff group is set up: a person is reached on the phone."""
    return f"Per parlare con una persona chiama il centralino del Comune: {switchboard}."


def handoff_unavailable(switchboard: str) -> str:
    """The staff could not be reached from the chat just now: the phone, and the assistant meanwhile."""
    return (
        "Mi dispiace, in questo momento non riesco a passarti a una persona del Comune. "
        f"Puoi chiamare il centralino: {switchboard}. Intanto io resto qui: scrivimi pure."
    )


SETTINGS = (
    "Come vuoi i pulsanti?\n"
    "🔠 Modalità semplice: i pulsanti grandi restano sempre qui sotto, non serve scrivere.\n"
    "🔡 Modalità compatta: i pulsanti sono solo dentro i messaggi.\n"
    "Ora usi la modalità {mode}."
)
# The staff group's `//` notes and canned replies (bot/canned_replies.yml).
INTERNAL_NOTE_KEPT = "🔒 Nota interna: resta tra il personale, il cittadino non la vede."
CANNED_OUTSIDE_TICKET = "Usate /risposte dentro l'argomento di una richiesta."
CANNED_UNKNOWN = "Non c'è una risposta con questo numero. /risposte mostra l'elenco."
CANNED_CLOSED = "Questa richiesta è chiusa: la risposta non è stata inviata."


def canned_sent(title: str) -> str:
    return f"Inviata al cittadino la risposta «{title}»."


BIG_BUTTON_DURING_HANDOFF = (
    "Ora stai parlando con una persona del Comune: scrivi pure qui. "
    "Per tornare ai pulsanti dell'assistente tocca «↩️ Torna all'assistente»."
)
SIMPLE_MODE_ON = "Fatto: modalità semplice. I pulsanti grandi sono qui sotto: tocca quello che ti serve."
COMPACT_MODE_ON = (
    "Fatto: modalità compatta. Ho tolto i pulsanti grandi: ora i pulsanti sono dentro i messaggi. "
    "Per riaverli tocca «🔠 Pulsanti grandi» nel menu, oppure scrivi «modalità semplice»."
)
UNEXPECTED_ERROR = f"Scusa, qualcosa è andato storto. Riprova, oppure chiama il centralino: {PHONE}."
FILE_TOO_LARGE = (
    "Questo file è troppo grande: posso ricevere file fino a 20 MB. "
    "Prova a mandarlo più leggero, oppure chiedi a una persona."
)
FILE_WRONG_TYPE = "Posso ricevere solo PDF, foto JPG o PNG. Manda il documento in uno di questi formati."
FILE_NEEDS_LINK = (
    "Posso ricevere documenti e foto solo in una chat collegata alla tua identità. "
    "Per collegarla accedi al portale del Comune con SPID o CIE, prendi il codice di "
    "collegamento e scrivimelo qui. Una segnalazione puoi mandarla anche senza foto: "
    "tocca «⏭️ Salta»."
)


def file_quota_reached(max_files: int | None, max_mb: int | None, retry_after: float | None) -> str:
    """The citizen sent as many files as a day allows: how many, and when to try again."""
    limit = (
        f" (al massimo {max_files} file e {max_mb} MB in 24 ore)"
        if max_files is not None and max_mb is not None
        else ""
    )
    hours = math.ceil(retry_after / 3600) if retry_after else None
    when = "tra meno di un'ora" if hours == 1 else f"tra circa {hours} ore" if hours else "più tardi"
    return (
        f"Hai già mandato tutti i file che si possono mandare in un giorno{limit}. "
        f"Riprova {when}, oppure chiedi a una persona."
    )


FILE_NOT_SAVED = (
    f"Non riesco a salvare il file in questo momento. Riprova tra poco, oppure chiama il centralino: {PHONE}."
)

# I miei dati: the copy of the citizen's data, and erasing it.
MY_DATA_PDF = "📄 I tuoi dati, da leggere."
MY_DATA_JSON = "🗂️ Gli stessi dati in formato JSON, per un altro programma."
MY_DATA_SENT = (
    "Ecco una copia di tutto quello che l'assistente conserva su di te: pratiche, pagamenti, "
    "appuntamenti, file, richieste a una persona e la nostra conversazione. "
    "Se vuoi, puoi cancellare i tuoi dati dall'assistente: le pratiche restano comunque all'ufficio."
)
MY_DATA_UNAVAILABLE = (
    "In questo momento non riesco a preparare i tuoi dati: il sistema del Comune non risponde. "
    "Non ho perso nulla: riprova tra qualche minuto."
)
MY_DATA_NOT_ERASED = "In questo momento non riesco a cancellare i tuoi dati. Non ho cancellato nulla: riprova tra qualche minuto."
MY_DATA_HALF_ERASED = (
    "Ho cancellato la nostra conversazione, ma il sistema del Comune non risponde: la chat è ancora "
    "collegata al tuo profilo. Riprova tra qualche minuto con «🗑️ Cancella»."
)
