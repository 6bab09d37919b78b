"""The Telegram channel of Sportello Digitale: updates to Rasa, Rasa's answers to Telegram."""
