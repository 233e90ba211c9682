// Where an OAuth sign-in opened by the console lands (the callback's redirect): the console
// watches for this window to close and then shows the connection.
window.close();
