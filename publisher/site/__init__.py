"""The rendering pipeline and the static site: Markdown to safe HTML, images, pages, feeds, deploys."""
