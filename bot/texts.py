"""The few Italian texts the channel itself says: when Rasa cannot, or a message is not text."""

PHONE = "06 896301"

ASSISTANT_DOWN = (
    "Mi dispiace, in questo momento non riesco a rispondere. Riprova tra qualche minuto. "
    f"Se hai fretta, chiama il centralino del Comune: {PHONE} (lunedì–venerdì 9–12:30)."
)
STALE_BUTTON = "Questo pulsante non è più valido. Ecco il menu aggiornato."
STALE_BUTTON_ALERT = "Pulsante scaduto"
VOICE_NOT_SUPPORTED = (
    "Non riesco ad ascoltare i messaggi vocali. Puoi scrivermi, oppure usare i pulsanti."
)
UNSUPPORTED_MESSAGE = "Questo tipo di messaggio non lo so leggere. Puoi scrivermi, oppure usare i pulsanti."
UNEXPECTED_ERROR = (
    f"Scusa, qualcosa è andato storto. Riprova, oppure chiama il centralino: {PHONE}."
)
FILE_TOO_LARGE = (
    "Questo file è troppo grande: posso ricevere file fino a 20 MB. "
    "Prova a mandarlo più leggero, oppure chiedi a una persona."
)
FILE_WRONG_TYPE = "Posso ricevere solo PDF, foto JPG o PNG. Manda il documento in uno di questi formati."
FILE_NOT_SAVED = (
    f"Non riesco a salvare il file in questo momento. Riprova tra poco, oppure chiama il centralino: {PHONE}."
)
