WORD = "bonjour"
