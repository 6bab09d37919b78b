"""Reference back-office service of Sportello Digitale: the API a comune's software exposes."""
