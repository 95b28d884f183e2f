grammar Hvt;
program : EOF ;
