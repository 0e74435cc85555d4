"""The web portal: live alert board, feedback, publishing with an audience preview, library, dashboard."""
