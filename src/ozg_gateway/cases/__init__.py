"""What a case is and how it comes to be: intake of portal drafts and of received messages,
freezing, case numbers, requirements (identification, payment) and the case lifecycle."""
