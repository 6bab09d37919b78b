"""The cruscotto: figures of the assistant from the back office, Rasa's history and the handoff tickets."""
