-- TODO: write this

