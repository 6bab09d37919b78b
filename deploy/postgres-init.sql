-- The tracker store (TRACKER_STORE_URL) and the bot's state (HANDOFF_DATABASE_URL), each a
-- database of its own beside the back office's (POSTGRES_DB): both have tables named alike.
CREATE DATABASE rasa OWNER sportello;
CREATE DATABASE handoff OWNER sportello;
