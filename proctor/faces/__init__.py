"""Face detection and face embedding backends behind two small interfaces."""
